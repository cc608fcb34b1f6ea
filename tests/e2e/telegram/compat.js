'use strict';
/**
 * Compatibility layer: lets an unmodified python-telegram-bot 22 Application run against
 * telegram-test-api 4.2.1, and keeps a transcript the Python harness can long-poll.
 *
 * It is an express router that server.js mounts *in front of* the emulator's own app, so no
 * file in node_modules is touched; the emulator's storage, id counters and user-side helpers
 * (addUserMessage, addUserCallback, deleteMessage, ...) are reused as they are.
 *
 * Incompatibilities of telegram-test-api 4.2.1 and how they are fixed here:
 *  1. getMe has no is_bot (PTB's User requires it: Application.initialize crashes)
 *     -> a full User (is_bot, can_join_groups, ...); the id is the token's numeric prefix.
 *  2. sendMessage answers `date` in milliseconds, without `from`, with a stub chat
 *     -> a Message with date in seconds, from = the bot, chat = the chat the user wrote from;
 *        unknown chats are "400 chat not found" like on Telegram.
 *  3. editMessageText / editMessageReplyMarkup answer null and keep the old keyboard
 *     -> the edit is applied as Telegram does (no reply_markup = keyboard removed) and the
 *        edited Message is answered; missing / unchanged messages are Telegram's 400s.
 *  4. answerCallbackQuery answers null and records nothing
 *     -> true; the answer lands in the transcript; unknown or repeated answers are 400s.
 *  5. callback_query updates have no chat_instance, and the client must invent `message`
 *     -> the pressed message is taken from storage and chat_instance is added.
 *  6. setMyCommands, getMyCommands, deleteMyCommands, sendChatAction, getWebhookInfo are
 *     HTTP 500; setWebhook, deleteWebhook, deleteMessage answer null
 *     -> implemented (per token; commands per scope and language_code). setWebhook only
 *        records the URL: updates are not pushed, and getUpdates then answers 409 like Telegram.
 *  7. getUpdates ignores offset and timeout (PTB spins; an update is lost once fetched)
 *     -> Bot API semantics: offset confirms earlier updates, timeout holds the request until
 *        an update arrives. allowed_updates is ignored.
 *  8. unknown methods are HTTP 500, which PTB turns into a retried NetworkError
 *     -> 400 "method ... is not supported", a BadRequest in PTB.
 *  Not emulated: rendering of parse_mode (text is kept as sent), files, groups, inline mode.
 *
 * User-side routes (JSON in, {ok, result} out), used by harness.py:
 *   POST /sendMessage, /sendCommand {botToken, from, chat, text, entities?}
 *        -> {message_id, update_id}
 *   POST /sendCallback {botToken, from, message: {message_id, chat: {id}}, data}
 *        -> {callback_query_id, update_id}
 *   POST /transcript {token, after, timeout} -> events with seq > after, waiting up to
 *        `timeout` seconds for the first; an event is
 *        {seq, actor: 'user'|'bot', method, chat_id, params, result?, error?}.
 */
const express = require('express');

// PTB sends form fields and JSON-encodes every non-string value; these hold objects/booleans.
const JSON_PARAMS = ['reply_markup', 'entities', 'commands', 'scope', 'link_preview_options',
  'reply_parameters', 'allowed_updates', 'show_alert', 'drop_pending_updates'];
// Read-only bot calls, left out of the transcript (getUpdates alone would flood it).
const QUIET = new Set(['getMe', 'getUpdates', 'getWebhookInfo', 'getMyCommands', 'transcript']);
const NOT_MODIFIED = 'message is not modified: specified new message content and reply markup'
  + ' are exactly the same as a current content and reply markup of the message';

class ApiError extends Error {
  constructor(code, description) {
    super(description);
    this.code = code;
  }
}
const badRequest = (what) => new ApiError(400, `Bad Request: ${what}`);
const seconds = () => Math.floor(Date.now() / 1000);

function compat(server) {
  const chats = new Map(); // chat id -> Chat, learned from the user's messages
  const callbacks = new Map(); // callback_query_id -> {token, answered}
  const commands = new Map(); // [token, scope, language_code] -> BotCommand[]
  const webhooks = new Map(); // token -> url
  const confirmed = new Map(); // token -> lowest update_id not confirmed by an offset yet
  const transcripts = new Map(); // token -> events, so a long poll scans only its own bot
  const waiters = new Set();
  let seq = 0;

  // botToken is routing for the user-side routes, not part of what the user sent.
  const record = ({ token, params: { botToken, ...params }, ...event }) => {
    const chat = params.chat_id ?? params.chat?.id ?? params.message?.chat?.id
      ?? event.result?.chat?.id;
    if (!transcripts.has(token)) transcripts.set(token, []);
    transcripts.get(token).push({ seq: ++seq, ...event, params, chat_id: Number(chat) || null });
    waiters.forEach((poke) => poke());
  };
  // Resolves once ready() holds, after `ms`, or when the client hangs up (PTB cancels its poll).
  const waitUntil = (ready, ms, res) => new Promise((resolve) => {
    if (ready() || !(ms > 0)) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      waiters.delete(poke);
      resolve();
    };
    const poke = () => ready() && done();
    const timer = setTimeout(done, ms);
    waiters.add(poke);
    res.on('close', done);
  });

  const botUser = (token) => ({
    id: Number(String(token).split(':')[0]) || 666,
    is_bot: true,
    first_name: 'Lifecycle Test Bot',
    username: 'lifecycle_test_bot',
  });
  const knownChat = (chatId) => {
    const chat = chats.get(String(chatId));
    if (!chat) throw badRequest('chat not found');
    return chat;
  };
  const findBotMessage = (token, chatId, messageId) => server.storage.botMessages.find((e) => (
    e.botToken === token && String(e.messageId) === String(messageId)
    && String(e.message.chat_id) === String(chatId)));
  const toMessage = (e) => {
    const { text, entities, edit_date: editDate, reply_markup: markup } = e.message;
    return {
      message_id: e.messageId,
      from: botUser(e.botToken),
      chat: chats.get(String(e.message.chat_id)),
      date: Math.floor(e.time / 1000),
      edit_date: editDate,
      text,
      entities,
      reply_markup: markup && markup.inline_keyboard ? markup : undefined,
    };
  };
  const edit = (token, p, changes) => {
    const e = findBotMessage(token, p.chat_id, p.message_id);
    if (!e) throw badRequest('message to edit not found');
    const edited = { ...e.message, ...changes };
    const shown = (m) => JSON.stringify([m.text, m.reply_markup]);
    if (shown(edited) === shown(e.message)) throw badRequest(NOT_MODIFIED);
    e.message = { ...edited, edit_date: seconds() };
    return toMessage(e);
  };
  const pending = (token) => server.storage.userMessages.filter(
    (u) => u.botToken === token && u.updateId >= (confirmed.get(token) ?? 0),
  );
  const toUpdate = (u) => {
    const update = server.constructor.formatUpdate(u); // copies the stored message
    if (update.message) delete update.message.botToken;
    if (update.callback_query) {
      update.callback_query.chat_instance = String(update.callback_query.message.chat.id);
    }
    return update;
  };
  const commandsKey = (token, p) => JSON.stringify(
    [token, p.scope ?? { type: 'default' }, p.language_code ?? ''],
  );
  // The ids the emulator is about to give the next user update (it reads them synchronously).
  const nextIds = () => ({ update_id: server.updateId, message_id: server.messageId });

  const botMethods = {
    getMe: (token) => ({
      ...botUser(token),
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    }),
    sendMessage: (token, p) => {
      knownChat(p.chat_id);
      server.addBotMessage({ ...p }, token);
      return toMessage(server.storage.botMessages.at(-1));
    },
    editMessageText: (token, p) => edit(token, p, {
      text: p.text, entities: p.entities, reply_markup: p.reply_markup,
    }),
    editMessageReplyMarkup: (token, p) => edit(token, p, { reply_markup: p.reply_markup }),
    deleteMessage: (token, p) => {
      if (!server.deleteMessage(Number(p.chat_id), Number(p.message_id))) {
        throw badRequest('message to delete not found');
      }
      return true;
    },
    answerCallbackQuery: (token, p) => {
      const query = callbacks.get(String(p.callback_query_id));
      if (!query || query.token !== token || query.answered) {
        throw badRequest('query is too old and response timeout expired or query ID is invalid');
      }
      query.answered = true;
      return true;
    },
    sendChatAction: (token, p) => Boolean(knownChat(p.chat_id)),
    setMyCommands: (token, p) => {
      commands.set(commandsKey(token, p), p.commands);
      return true;
    },
    getMyCommands: (token, p) => commands.get(commandsKey(token, p)) ?? [],
    deleteMyCommands: (token, p) => {
      commands.delete(commandsKey(token, p));
      return true;
    },
    setWebhook: (token, p) => {
      webhooks.set(token, p.url);
      return true;
    },
    deleteWebhook: (token, p) => {
      webhooks.delete(token);
      if (p.drop_pending_updates) confirmed.set(token, server.updateId);
      return true;
    },
    getWebhookInfo: (token) => ({
      url: webhooks.get(token) ?? '',
      has_custom_certificate: false,
      pending_update_count: pending(token).length,
    }),
    getUpdates: async (token, p, res) => {
      if (webhooks.has(token)) {
        throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active;"
          + ' use deleteWebhook to delete the webhook first');
      }
      const offset = Number(p.offset ?? 0);
      if (offset > (confirmed.get(token) ?? 0)) confirmed.set(token, offset);
      await waitUntil(() => pending(token).length > 0, Number(p.timeout ?? 0) * 1000, res);
      return pending(token).slice(0, Number(p.limit ?? 100)).map(toUpdate);
    },
  };

  const userMessage = (add) => async (token, b) => {
    if (!b.from?.id || !b.chat?.id) throw badRequest('from.id and chat.id are required');
    chats.set(String(b.chat.id), b.chat);
    const ids = nextIds();
    await add.call(server, b);
    return ids;
  };
  const userMethods = {
    sendMessage: userMessage(server.addUserMessage),
    sendCommand: userMessage(server.addUserCommand),
    sendCallback: async (token, b) => {
      const pressed = findBotMessage(token, b.message?.chat?.id, b.message?.message_id);
      if (!pressed) throw badRequest('message with the pressed button not found');
      const id = String(server.callbackId);
      callbacks.set(id, { token, answered: false });
      const { update_id: updateId } = nextIds();
      await server.addUserCallback({ ...b, message: toMessage(pressed) });
      return { callback_query_id: id, update_id: updateId };
    },
    transcript: async (token, b, res) => {
      const after = Number(b.after ?? 0);
      const mine = () => (transcripts.get(token) ?? []).filter((ev) => ev.seq > after);
      await waitUntil(() => mine().length > 0, Number(b.timeout ?? 0) * 1000, res);
      return mine();
    },
  };

  const handle = async (req, res, actor, token, method, handler) => {
    const params = { ...req.query, ...req.body };
    if (actor === 'user') params.date = seconds();
    try {
      JSON_PARAMS.forEach((k) => {
        if (typeof params[k] !== 'string') return;
        try {
          params[k] = JSON.parse(params[k]);
        } catch {
          throw badRequest(`can't parse ${k} JSON object`);
        }
      });
      if (!handler) throw badRequest(`method '${method}' is not supported by the emulator`);
      const result = await handler(token, params, res);
      if (!QUIET.has(method)) record({ token, actor, method, params, result });
      res.json({ ok: true, result });
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, `emulator bug: ${err.stack}`);
      if (e.code === 500) console.error(err);
      record({ token, actor, method, params, error: e.message });
      res.status(e.code).json({ ok: false, error_code: e.code, description: e.message });
    }
  };
  const own = (methods, name) => (Object.hasOwn(methods, name) ? methods[name] : undefined);

  const router = express.Router();
  router.all('/bot:token/:method', (req, res) => {
    const { token, method } = req.params;
    handle(req, res, 'bot', token, method, own(botMethods, method));
  });
  router.post('/:method', (req, res, next) => {
    const handler = own(userMethods, req.params.method);
    if (!handler) return next(); // the emulator's own client routes (getUpdatesHistory, ...)
    const token = req.body.botToken ?? req.body.token;
    return handle(req, res, 'user', token, req.params.method, handler);
  });
  return router;
}

module.exports = { compat };
