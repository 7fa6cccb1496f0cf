/**
 * Ports that well-known trojans, backdoors and worm-installed servers listen on by default — the shipped list
 * behind the `trojan` port class (DESIGN §14).
 *
 * Written for alertgraph in its own words, one entry per program: its name, the ports and protocols its server
 * listens on, and what listens there. The facts come from the antivirus vendors' published descriptions of each
 * program (Symantec Security Response, F-Secure and Trend Micro write-ups), the SANS Internet Storm Center's port
 * reports, the ports named by the Snort community ruleset's BACKDOOR and DDOS rules, and, for trinoo and
 * Stacheldraht, David Dittrich's published analyses of those DDoS tools. A port number and a program's name are
 * facts; no list or rule text was copied. The list is deliberately short: documented default ports only.
 *
 * These are default ports: a trojan can be moved to another port, and a legitimate service can use one of
 * these (tcp/27374 is also IANA's `asp`). The class says "a port trojans are known to listen on", not
 * "an infected host".
 */

export interface TrojanPorts {
  /** The program's name as the write-ups give it; alternative names after a slash. */
  readonly name: string;
  /** `tcp/12345`, or an inclusive range `tcp/3127-3198`. */
  readonly ports: readonly string[];
  /** What listens there, in a few words. */
  readonly role: string;
}

export const TROJANS_SOURCE =
  'Trojan and backdoor ports: written for alertgraph in its own words from the antivirus vendors\' ' +
  'published descriptions of each program (Symantec Security Response, F-Secure, Trend Micro), the SANS ' +
  "Internet Storm Center's port reports, the ports named by the Snort community ruleset's BACKDOOR and DDOS " +
  "rules and, for trinoo and Stacheldraht, David Dittrich's analyses. Each entry " +
  'names the program and the default ports its server listens on; ports and names are facts, no list ' +
  'was copied. A trojan port may also carry legitimate traffic.';

export const TROJAN_PORTS: readonly TrojanPorts[] = [
  // Remote-administration trojans of the late 1990s and early 2000s.
  { name: 'Back Orifice', ports: ['udp/31337'], role: 'remote-control server' },
  { name: 'Back Orifice 2000 / BO2K', ports: ['tcp/54320', 'udp/54321'], role: 'remote-control server' },
  { name: 'NetBus', ports: ['tcp/12345', 'tcp/12346'], role: 'remote-control server' },
  { name: 'NetBus Pro', ports: ['tcp/20034'], role: 'remote-control server' },
  {
    name: 'SubSeven / Sub7',
    ports: ['tcp/1243', 'tcp/6711', 'tcp/6712', 'tcp/6713', 'tcp/6776', 'tcp/16959', 'tcp/27374'],
    role: 'remote-control server (the port depends on the version; 27374 from 2.1)',
  },
  { name: 'Deep Throat', ports: ['udp/2140', 'udp/3150', 'udp/4120', 'tcp/6670'], role: 'remote-control server' },
  { name: 'NetSphere', ports: ['tcp/30100-30102'], role: 'remote-control server' },
  { name: 'GirlFriend', ports: ['tcp/21554'], role: 'remote-control server' },
  { name: 'Doly Trojan', ports: ['tcp/1011', 'tcp/1012', 'tcp/1015'], role: 'remote-control server' },
  { name: 'Schwindler / Fore', ports: ['tcp/50766'], role: 'remote-control server' },
  {
    name: 'Masters Paradise',
    ports: ['tcp/40421', 'tcp/40422', 'tcp/40423', 'tcp/40426'],
    role: 'remote-control server',
  },
  { name: 'Millennium', ports: ['tcp/20000', 'tcp/20001'], role: 'remote-control server' },
  { name: 'Evil FTP / Ugly FTP', ports: ['tcp/23456'], role: 'hidden FTP server' },
  { name: 'Back Construction', ports: ['tcp/5401-5402'], role: 'remote-control server' },
  { name: 'WinCrash', ports: ['tcp/5714'], role: 'remote-control server' },
  { name: 'GateCrasher', ports: ['tcp/6969'], role: 'remote-control server' },
  { name: 'Kuang2', ports: ['tcp/17300'], role: 'backdoor of the Kuang2 file infector' },
  { name: 'Optix Pro', ports: ['tcp/3410'], role: 'remote-control server' },
  { name: 'Beast', ports: ['tcp/6666'], role: 'remote-control server' },
  { name: 'ProRat', ports: ['tcp/5110'], role: 'remote-control server' },
  { name: 'Poison Ivy', ports: ['tcp/3460'], role: 'remote-control server' },
  { name: 'DarkComet', ports: ['tcp/1604'], role: 'remote-control server' },

  // Servers that mass-mailing and network worms start on the hosts they infect.
  { name: 'W32.Mydoom.A / Novarg', ports: ['tcp/3127-3198'], role: 'backdoor on the first free port of the range' },
  { name: 'W32.Blaster', ports: ['tcp/4444'], role: 'remote shell opened by the exploit' },
  { name: 'W32.Sasser', ports: ['tcp/5554', 'tcp/9996'], role: 'FTP server handing out the worm; remote shell' },
  { name: 'W32.Dabber', ports: ['tcp/9898'], role: 'backdoor' },
  { name: 'W32.Beagle.A / Bagle.A', ports: ['tcp/6777'], role: 'backdoor' },
  { name: 'W32.Beagle.B / Bagle.B', ports: ['tcp/8866'], role: 'backdoor' },
  { name: 'W32.Beagle / Bagle (later variants)', ports: ['tcp/2745'], role: 'backdoor' },
  { name: 'W32.Bugbear', ports: ['tcp/36794'], role: 'backdoor' },
  { name: 'W32.HLLW.Lovgate', ports: ['tcp/10168'], role: 'backdoor' },
  { name: 'Linux.Slapper.A', ports: ['udp/2002'], role: 'peer-to-peer network of infected hosts' },
  { name: 'Linux.Slapper.B', ports: ['udp/4156'], role: 'peer-to-peer network of infected hosts' },

  // Distributed denial-of-service agents.
  {
    name: 'trinoo',
    ports: ['tcp/27665', 'udp/27444', 'udp/31335'],
    role: 'master (27665, 31335) and daemon (27444) of the DDoS tool',
  },
  { name: 'Stacheldraht', ports: ['tcp/16660', 'tcp/65000'], role: 'handler (16660) and agent (65000) of the DDoS tool' },
];
