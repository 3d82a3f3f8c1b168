// The demo's Bayeux panel. It loads the Bayeux browser client the server
// serves at /bayeux-client.js (window.Switchboard.BayeuxClient), subscribes to
// channels, publishes texts and lists what arrives. Chat rooms are bridged to
// the channels /chat/<room> by the server, so this panel, the chat above and
// any Faye or CometD client talk together. Received text is only ever
// inserted with textContent.

const $ = (id) => document.getElementById(id);

const ui = {
  panel: $("bayeux-panel"),
  status: $("bayeux-status"),
  subscribeForm: $("bayeux-subscribe-form"),
  channelInput: $("bayeux-channel-input"),
  subscribeButton: $("bayeux-subscribe-button"),
  subscriptions: $("bayeux-subscriptions"),
  messages: $("bayeux-messages"),
  publishForm: $("bayeux-publish-form"),
  publishChannel: $("bayeux-publish-channel"),
  publishInput: $("bayeux-publish-input"),
  publishButton: $("bayeux-publish-button"),
  error: $("bayeux-error"),
};

// channel -> Subscription, for the unsubscribe buttons.
const subscriptions = new Map();

function setStatus(text, kind) {
  ui.status.textContent = text;
  ui.status.dataset.state = kind;
  document.body.dataset.bayeux = kind;
}

function showError(text) {
  ui.error.textContent = text || "";
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

/** A line of text for any delivered data: chat messages as "from: text", the rest as JSON. */
function describe(data) {
  if (typeof data === "string") return data;
  if (data && typeof data === "object" && typeof data.text === "string") {
    return typeof data.from === "string" ? `${data.from}: ${data.text}` : data.text;
  }
  try {
    return JSON.stringify(data);
  } catch {
    return String(data);
  }
}

function appendMessage(message) {
  const li = document.createElement("li");
  li.className = "message";
  li.dataset.channel = message.channel;
  const channel = document.createElement("span");
  channel.className = "channel";
  channel.textContent = message.channel;
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = describe(message.data);
  li.append(channel, body);
  ui.messages.append(li);
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function renderSubscriptions() {
  ui.subscriptions.replaceChildren(
    ...[...subscriptions.keys()].map((channel) => {
      const li = document.createElement("li");
      li.dataset.channel = channel;
      li.textContent = channel;
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "×";
      button.title = `Unsubscribe from ${channel}`;
      button.addEventListener("click", async () => {
        const subscription = subscriptions.get(channel);
        subscriptions.delete(channel);
        renderSubscriptions();
        await subscription?.cancel();
      });
      li.append(button);
      return li;
    }),
  );
}

async function start() {
  const config = await (await fetch("/config.json")).json();
  if (!config.bayeuxPath || !config.bayeuxClient) return; // Bayeux is off: keep the panel hidden.
  ui.panel.hidden = false;
  setStatus("loading…", "connecting");
  await loadScript(config.bayeuxClient);
  const { BayeuxClient } = window.Switchboard;
  const client = new BayeuxClient(new URL(config.bayeuxPath, location.href).href);
  client.on("transport", (type) => {
    if (client.state === "connected") setStatus(`connected (${type})`, "connected");
  });
  client.on("connected", () => setStatus(`connected (${client.connectionType})`, "connected"));
  client.on("disconnected", (error) =>
    setStatus(error ? `reconnecting (${error.message})` : "disconnected", "disconnected"),
  );
  await client.handshake();
  ui.subscribeButton.disabled = false;
  ui.publishButton.disabled = false;

  ui.subscribeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const channel = ui.channelInput.value.trim();
    if (subscriptions.has(channel)) return;
    try {
      const subscription = await client.subscribe(channel, appendMessage);
      subscriptions.set(channel, subscription);
      renderSubscriptions();
      showError("");
    } catch (err) {
      showError(`cannot subscribe to ${channel}: ${err.message}`);
    }
  });

  ui.publishForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const channel = ui.publishChannel.value.trim();
    const text = ui.publishInput.value.trim();
    if (!text) return;
    // The chat shows the author; the nickname set above, if any.
    const data = { text, from: document.body.dataset.nickname || "bayeux panel" };
    try {
      await client.publish(channel, data);
      ui.publishInput.value = "";
      showError("");
    } catch (err) {
      showError(`cannot publish to ${channel}: ${err.message}`);
    }
  });

  window.addEventListener("pagehide", () => void client.disconnect());
}

start().catch((err) => {
  setStatus(`failed: ${err.message}`, "disconnected");
});
