/** The message core shared by the Socket.IO and Bayeux servers. */
export { TopicRouter, type TopicRouterHooks } from "./topic-router.js";
export { bayeuxTopic, sioTopic } from "./topics.js";
