require('reflect-metadata');
const autocannon = require('autocannon');
const { startPlatform, graphqlData } = require('/work/main/dist/tools/bench/libs/testing/src/index.js');
(async () => {
  const platform = await startPlatform({ env: { NODE_ENV: 'production', LOG_LEVEL: 'warn' }, authEnv: { SIGNING_KEY_SECRET: 'benchmark-signing-key-secret-0123456789' }, gatewayEnv: { RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_USER: '100000000', QUERY_MAX_COST: '100000' } });
  try {
    const { register } = await graphqlData(platform.gatewayUrl, `mutation { register(input: { email: "b-${Date.now()}@example.com", password: "a long bench passphrase 1", displayName: "B" }) { accessToken } }`);
    const body = JSON.stringify({ query: 'query Q($input: SearchDocumentsInput!) { searchDocuments(input: $input) { totalCount } }', variables: { input: { query: 'garden', first: 20 } } });
    for (const url of [platform.contentUrl, platform.gatewayUrl]) {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${register.accessToken}` }, body });
      console.log(r.status, (await r.text()).slice(0, 300));
      await new Promise((resolve) => {
        const inst = autocannon({ url, method: 'POST', connections: 4, duration: 2, headers: { 'content-type': 'application/json', authorization: `Bearer ${register.accessToken}` }, body, verifyBody: (b) => { if (Math.random() < 0.001) console.log('body', b.slice(0,200)); return true; } }, (err, res) => { console.log(url, err, res.requests.total, res.errors, res.non2xx, res.statusCodeStats, res.mismatches); resolve(); });
        inst.on('reqError', (e) => console.log('reqError', e.message));
      });
    }
  } finally { await platform.stop(); }
})();
