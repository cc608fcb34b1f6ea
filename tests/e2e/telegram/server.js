'use strict';
// Telegram Bot API emulator for the end-to-end tests: telegram-test-api with compat.js in front.
// Usage: node server.js [port]  (or TELEGRAM_EMULATOR_PORT; 0, the default, picks a free port).
// Listens on 127.0.0.1 only and prints "telegram-emulator ready http://127.0.0.1:<port>".
const express = require('express');
const TelegramServer = require('telegram-test-api');
const { compat } = require('./compat');

const port = Number(process.argv[2] ?? process.env.TELEGRAM_EMULATOR_PORT ?? 0);
// Only the emulator's express app is used, not emulator.start(): its clean-up timer would
// forget messages older than a minute in the middle of a long test session.
const emulator = new TelegramServer({ host: '127.0.0.1', port });
const app = express();
app.use(express.json(), express.urlencoded({ extended: true }));
app.use(compat(emulator));
app.use(emulator.webServer);

const listener = app.listen(port, '127.0.0.1', () => {
  console.log(`telegram-emulator ready http://127.0.0.1:${listener.address().port}`);
});
// Never drop idle keep-alive sockets: httpx could reuse one just as it closes (a flaky error).
listener.keepAliveTimeout = 0;
listener.on('error', (err) => {
  console.error(err);
  process.exit(1);
});
