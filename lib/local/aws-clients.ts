/** The emulator clients, where the local stack's code and its tests have always found them (lib/store/aws-clients.ts). */
export { localDynamoClient, localS3Client } from '../store/aws-clients.js';
