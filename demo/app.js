// The demo chat's browser side. Plain JS, no build step: it asks the server
// where Socket.IO lives (/config.json), loads the client bundle the server
// serves there, then talks to the handlers of src/cli/demo-handlers.ts.
// Text from other users is only ever inserted with textContent.

const $ = (id) => document.getElementById(id);

const ui = {
  status: $("status"),
  nicknameForm: $("nickname-form"),
  nicknameInput: $("nickname-input"),
  joinForm: $("join-form"),
  roomInput: $("room-input"),
  leaveButton: $("leave-button"),
  formError: $("form-error"),
  currentRoom: $("current-room"),
  messages: $("messages"),
  messageForm: $("message-form"),
  messageInput: $("message-input"),
  sendButton: $("send-button"),
  members: $("members"),
};

const state = { nickname: null, room: null };

function setStatus(text, kind) {
  ui.status.textContent = text;
  ui.status.dataset.state = kind;
}

function showError(text) {
  ui.formError.textContent = text || "";
}

function setRoom(room) {
  state.room = room;
  ui.currentRoom.textContent = room ?? "none";
  const inRoom = room !== null;
  ui.leaveButton.disabled = !inRoom;
  ui.messageInput.disabled = !inRoom;
  ui.sendButton.disabled = !inRoom;
  if (!inRoom) renderMembers([]);
}

function renderMembers(names) {
  ui.members.replaceChildren(
    ...names.map((name) => {
      const li = document.createElement("li");
      li.textContent = name;
      return li;
    }),
  );
}

function append(item) {
  ui.messages.append(item);
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function appendMessage({ from, text, via }) {
  const li = document.createElement("li");
  li.className = "message";
  // Bridged in from a Bayeux channel (/chat/<room>) by the server.
  if (via) li.dataset.via = via;
  const who = document.createElement("span");
  who.className = "from";
  who.textContent = from;
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  li.append(who, body);
  append(li);
}

function appendNotice(text) {
  const li = document.createElement("li");
  li.className = "notice";
  li.textContent = text;
  append(li);
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

async function start() {
  const config = await (await fetch("/config.json")).json();
  await loadScript(`${config.path}/socket.io.js`);
  const socket = window.io({ path: config.path });

  const request = (event, ...args) =>
    socket
      .timeout(5000)
      .emitWithAck(event, ...args)
      .catch(() => ({ ok: false, error: "no answer from the server" }));

  socket.on("connect", () => {
    setStatus(`connected (${socket.io.engine.transport.name})`, "connected");
    socket.io.engine.once("upgrade", (transport) => {
      setStatus(`connected (${transport.name})`, "connected");
    });
    // After a reconnection the server has forgotten us: restore nickname and room.
    if (state.nickname) {
      const room = state.room;
      request("nickname", state.nickname).then(() => {
        if (room) request("join", room).then((reply) => reply.ok && renderMembers(reply.members));
      });
    }
  });
  socket.on("disconnect", (reason) => setStatus(`disconnected (${reason})`, "disconnected"));
  socket.on("connect_error", (err) => setStatus(`cannot connect: ${err.message}`, "disconnected"));

  socket.on("message", (message) => {
    if (message.room === state.room) appendMessage(message);
  });

  socket.on("presence", ({ room, nickname, previous, action, members }) => {
    if (room !== state.room) return;
    renderMembers(members);
    if (action === "join") appendNotice(`${nickname} joined ${room}`);
    else if (action === "leave") appendNotice(`${nickname} left ${room}`);
    else if (action === "rename") appendNotice(`${previous} is now ${nickname}`);
  });

  ui.nicknameForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reply = await request("nickname", ui.nicknameInput.value);
    if (!reply.ok) return showError(reply.error);
    showError("");
    state.nickname = reply.nickname;
    ui.nicknameInput.value = reply.nickname;
    document.body.dataset.nickname = reply.nickname;
  });

  ui.joinForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reply = await request("join", ui.roomInput.value);
    if (!reply.ok) return showError(reply.error);
    showError("");
    if (reply.room !== state.room) ui.messages.replaceChildren();
    setRoom(reply.room);
    renderMembers(reply.members);
    document.body.dataset.room = reply.room;
  });

  ui.leaveButton.addEventListener("click", async () => {
    const reply = await request("leave");
    if (!reply.ok) return showError(reply.error);
    appendNotice(`you left ${reply.room}`);
    setRoom(null);
    delete document.body.dataset.room;
  });

  ui.messageForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = ui.messageInput.value;
    if (!text.trim()) return;
    const reply = await request("message", text);
    if (!reply.ok) return showError(reply.error);
    showError("");
    ui.messageInput.value = "";
  });
}

start().catch((err) => setStatus(`failed to start: ${err.message}`, "disconnected"));
