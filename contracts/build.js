// Compiles contracts/src/*.sol with solc-js (the version scripts/build-contracts.sh pins) into
// one artifact per contract: { contractName, compiler, abi, bytecode, deployedBytecode }, the
// shape alloy's `sol!` reads. Usage: node contracts/build.js OUTDIR
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const out = process.argv[2];
if (!out) {
  console.error('usage: node contracts/build.js OUTDIR');
  process.exit(2);
}
const src = path.join(__dirname, 'src');
const sources = {};
for (const file of fs.readdirSync(src).filter((f) => f.endsWith('.sol')).sort()) {
  sources[file] = { content: fs.readFileSync(path.join(src, file), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};
const imports = (file) => ({ contents: fs.readFileSync(path.join(src, path.basename(file)), 'utf8') });
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: imports }));
let failed = false;
for (const message of output.errors || []) {
  console.error(message.formattedMessage);
  failed = failed || message.severity === 'error';
}
if (failed) {
  process.exit(1);
}
fs.mkdirSync(out, { recursive: true });
for (const file of Object.keys(output.contracts).sort()) {
  for (const [name, contract] of Object.entries(output.contracts[file])) {
    const artifact = {
      contractName: name,
      compiler: `solc-js ${solc.version()}`,
      abi: contract.abi,
      bytecode: '0x' + contract.evm.bytecode.object,
      deployedBytecode: '0x' + contract.evm.deployedBytecode.object,
    };
    fs.writeFileSync(path.join(out, `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
  }
}
