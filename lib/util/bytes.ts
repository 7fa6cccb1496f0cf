/** A byte count for people: `512 B`, `256.0 KiB`, `1.5 MiB`, `8.38 GiB` (binary units, as disks and Lambda's /tmp are sized). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
