// Runs dynalite in its own process (the local stack's second core), reports its port to the parent over IPC,
// and exits when the parent goes away. Plain JavaScript so it starts without a TypeScript loader.
const dynalite = require('dynalite');

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(Number(process.env.DYNALITE_PORT || 0), '127.0.0.1', () => {
  process.send({ port: server.address().port });
});
process.on('disconnect', () => process.exit(0));
