/**
 * Server side of the demo chat served at `/`: nicknames, one current room per
 * socket, messages to that room, and member lists with join/leave notices.
 *
 * Client → server (every event takes an ack; replies are `{ ok: true, ... }`
 * or `{ ok: false, error }`):
 *   nickname(name)  join(room)  leave()  message(text)
 * Server → client:
 *   message { room, from, text, at, via? }  (via: "bayeux" when bridged in, see demo-bridge.ts)
 *   presence { room, nickname, action: "join" | "leave" | "rename", members, previous? }
 */
import type { Server, Socket } from "../index.js";

/** A chat message as the demo sends it to a room. */
export interface ChatMessage {
  room: string;
  from: string;
  text: string;
  at: number;
  /** Set when the message came from elsewhere (the Bayeux bridge), absent from the page. */
  via?: string;
}

/** The demo chat as other parts of the server see it (the Bayeux bridge). */
export interface DemoChat {
  /** Sends a message to everyone in its room, as if a member had written it. */
  post(message: ChatMessage): void;
  /** Calls `listener` for each message a Socket.IO member writes; returns the remover. */
  observe(listener: (message: ChatMessage) => void): () => void;
}

/** Demo limits; inputs past them are refused with an error ack. */
export const DEMO_LIMITS = { nickname: 32, room: 40, message: 500 } as const;

type Ack = (reply: { ok: true; [key: string]: unknown } | { ok: false; error: string }) => void;

interface ChatState {
  nickname?: string;
  room?: string;
}

const ROOM_NAME = /^[\p{L}\p{N} _.-]+$/u;

/** Whether `room` is a room name the demo accepts. */
export function isRoomName(room: string): boolean {
  return room.length > 0 && room.length <= DEMO_LIMITS.room && ROOM_NAME.test(room);
}

/** Socket.IO rooms of the demo carry a prefix so they never collide with socket ids. */
const topic = (room: string): string => `chat:${room}`;

/**
 * Registers the demo chat on the default namespace of `io`; returns the
 * handle the Bayeux bridge uses.
 *
 * @example
 * const io = new Server(httpServer);
 * const chat = registerDemoHandlers(io);
 * chat.observe((message) => console.log(message.room, message.text));
 */
export function registerDemoHandlers(io: Server): DemoChat {
  const observers = new Set<(message: ChatMessage) => void>();
  // room -> (socket id -> nickname), for member lists; kept here so the demo
  // depends on nothing but emit/join/leave.
  const members = new Map<string, Map<string, string>>();

  const list = (room: string): string[] =>
    [...(members.get(room)?.values() ?? [])].sort((a, b) => a.localeCompare(b));

  const leaveRoom = (socket: Socket, state: ChatState): void => {
    const room = state.room;
    if (room === undefined) return;
    state.room = undefined;
    void socket.leave(topic(room));
    const inRoom = members.get(room);
    inRoom?.delete(socket.id);
    if (inRoom?.size === 0) members.delete(room);
    io.to(topic(room)).emit("presence", {
      room,
      nickname: state.nickname,
      action: "leave",
      members: list(room),
    });
  };

  io.on("connection", (socket: Socket) => {
    const state: ChatState = {};
    socket.data.chat = state;

    socket.on("nickname", (name: unknown, ack: unknown) => {
      const reply = replier(ack);
      const nickname = typeof name === "string" ? name.trim() : "";
      if (nickname.length === 0 || nickname.length > DEMO_LIMITS.nickname) {
        return reply({ ok: false, error: `nickname must be 1-${DEMO_LIMITS.nickname} characters` });
      }
      const previous = state.nickname;
      state.nickname = nickname;
      if (state.room !== undefined && previous !== nickname) {
        members.get(state.room)?.set(socket.id, nickname);
        io.to(topic(state.room)).emit("presence", {
          room: state.room,
          nickname,
          previous,
          action: "rename",
          members: list(state.room),
        });
      }
      reply({ ok: true, nickname });
    });

    socket.on("join", (name: unknown, ack: unknown) => {
      const reply = replier(ack);
      if (state.nickname === undefined)
        return reply({ ok: false, error: "choose a nickname first" });
      const room = typeof name === "string" ? name.trim() : "";
      if (!isRoomName(room)) {
        return reply({
          ok: false,
          error: `room names are 1-${DEMO_LIMITS.room} letters, digits, spaces, '_', '.' or '-'`,
        });
      }
      if (state.room === room) return reply({ ok: true, room, members: list(room) });
      leaveRoom(socket, state);
      state.room = room;
      void socket.join(topic(room));
      let inRoom = members.get(room);
      if (!inRoom) members.set(room, (inRoom = new Map()));
      inRoom.set(socket.id, state.nickname);
      io.to(topic(room)).emit("presence", {
        room,
        nickname: state.nickname,
        action: "join",
        members: list(room),
      });
      reply({ ok: true, room, members: list(room) });
    });

    socket.on("leave", (ack: unknown) => {
      const reply = replier(ack);
      if (state.room === undefined) return reply({ ok: false, error: "not in a room" });
      const room = state.room;
      leaveRoom(socket, state);
      reply({ ok: true, room });
    });

    socket.on("message", (text: unknown, ack: unknown) => {
      const reply = replier(ack);
      if (state.room === undefined || state.nickname === undefined) {
        return reply({ ok: false, error: "join a room first" });
      }
      const body = typeof text === "string" ? text.trim() : "";
      if (body.length === 0 || body.length > DEMO_LIMITS.message) {
        return reply({ ok: false, error: `messages are 1-${DEMO_LIMITS.message} characters` });
      }
      const message: ChatMessage = {
        room: state.room,
        from: state.nickname,
        text: body,
        at: Date.now(),
      };
      io.to(topic(state.room)).emit("message", message);
      for (const observer of observers) observer(message);
      reply({ ok: true });
    });

    socket.on("disconnect", () => leaveRoom(socket, state));
  });

  return {
    post(message) {
      io.to(topic(message.room)).emit("message", message);
    },
    observe(listener) {
      observers.add(listener);
      return () => observers.delete(listener);
    },
  };
}

/** The ack callback if the client asked for one, else a no-op. */
function replier(ack: unknown): Ack {
  return typeof ack === "function" ? (ack as Ack) : () => {};
}
