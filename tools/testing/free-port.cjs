// Ports for test processes started later, shared by tools/testing/infrastructure.mjs (which runs
// before anything is built) and libs/testing's freePort: one implementation, plain CommonJS so both
// load it as it is.
const { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const LOWEST_TEST_PORT = 10_000;
/** Ports handed out by any test process on this machine, one file each. */
const PORT_LEASES_DIR = path.join(os.tmpdir(), 'multipult-test-ports');
/** Longer than any service takes to bind the port it was given. */
const PORT_LEASE_MS = 10 * 60_000;
const portsHandedOut = new Set();

/** Where the kernel picks ports for outgoing connections (and for listen(0)); freePort stays below it. */
function ephemeralRangeStart() {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

/** Claims `port` for this process unless another holds a lease on it younger than PORT_LEASE_MS. */
function leasePort(port) {
  mkdirSync(PORT_LEASES_DIR, { recursive: true });
  const lease = path.join(PORT_LEASES_DIR, String(port));
  try {
    writeFileSync(lease, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    try {
      if (Date.now() - statSync(lease).mtimeMs < PORT_LEASE_MS) return false;
      writeFileSync(lease, String(process.pid));
      return true;
    } catch {
      return false;
    }
  }
}

function listensOn(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port free now, for a process started later. Taken below the kernel's ephemeral range: a port
 * from listen(0) lies inside it, and until the process binds it, any outgoing connection (a pool's
 * connection, a fetch) may take it as its local port, which CI saw as EADDRINUSE and as a health
 * check answered by another shard's service. Random in the range, never handed out twice by this
 * process, and leased across processes (parallel shards start services concurrently).
 * @returns {Promise<number>}
 */
function freePort() {
  return freePortBlock(1);
}

/**
 * `size` consecutive free ports, each one as freePort's, for a process that lays out its listeners
 * from one base port (the dev launcher's MULTIPULT_PORT_BASE). Returns the first.
 * @param {number} size
 * @returns {Promise<number>}
 */
async function freePortBlock(size) {
  const top = Math.max(LOWEST_TEST_PORT + 1_000, ephemeralRangeStart()) - size;
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const first = LOWEST_TEST_PORT + Math.floor(Math.random() * (top - LOWEST_TEST_PORT));
    const block = Array.from({ length: size }, (_, offset) => first + offset);
    if (block.some((port) => portsHandedOut.has(port))) continue;
    const leased = [];
    for (const port of block) {
      if (!leasePort(port)) break;
      leased.push(port);
    }
    const usable = leased.length === size && (await Promise.all(block.map(listensOn))).every(Boolean);
    if (usable) {
      block.forEach((port) => portsHandedOut.add(port));
      return first;
    }
    leased.forEach(releasePort);
  }
  const wanted = size === 1 ? 'free port' : `${size} consecutive free ports`;
  throw new Error(`no ${wanted} found in ${LOWEST_TEST_PORT}-${top + size - 1} after 100 tries`);
}

function releasePort(port) {
  rmSync(path.join(PORT_LEASES_DIR, String(port)), { force: true });
}

module.exports = { freePort, freePortBlock };
