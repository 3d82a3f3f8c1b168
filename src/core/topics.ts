/**
 * Topic names shared by the protocols. A Socket.IO room `r` of namespace `/n`
 * is `sio//n/r` (the namespace keeps its leading slash); a Bayeux channel
 * `/a/b` is `bayeux//a/b`. These names are what crosses the broker between
 * nodes; inside one namespace the router is keyed by room name alone.
 */

/** The topic of a Socket.IO room. @example sioTopic("/chat", "lobby") // "sio//chat/lobby" */
export function sioTopic(namespace: string, room: string): string {
  return `sio/${namespace}/${room}`;
}

/** The topic of a Bayeux channel. @example bayeuxTopic("/foo/bar") // "bayeux//foo/bar" */
export function bayeuxTopic(channel: string): string {
  return `bayeux/${channel}`;
}
