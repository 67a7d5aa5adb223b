// A BullMQ worker that takes one job, says so on stdout, and never finishes it: the test SIGKILLs
// this process mid-job, as a crash would, and checks that another worker takes the job over.
import { Worker } from 'bullmq';

const [url, prefix, queue] = process.argv.slice(2);
const { hostname, port } = new URL(url);
const worker = new Worker(
  queue,
  async (job) => {
    process.stdout.write(`took ${job.id}\n`);
    await new Promise(() => {});
  },
  { connection: { host: hostname, port: Number(port), maxRetriesPerRequest: null }, prefix, lockDuration: 1_000, stalledInterval: 500 },
);
worker.on('error', () => {});
