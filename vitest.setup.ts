// Fail loudly on unhandled rejections: a primitive that leaks one is a bug.
process.on('unhandledRejection', (reason) => {
  throw reason;
});
