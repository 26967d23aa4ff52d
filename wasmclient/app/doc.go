// Package app is the playground's client logic: connection state, message
// handling, the frame log and round-trip timing. It has no syscall/js, so
// it builds and is tested natively against a real server, and the same
// code runs in the browser as WebAssembly.
//
// # One goroutine owns the state
//
// Every type here is driven from one [Loop]. Browser events and incoming
// messages never touch state directly: they [Loop.Post] a function, and the
// loop runs those one at a time, in order. So no state needs a mutex, and a
// JavaScript callback never blocks (it only posts), which matters because a
// blocked callback stalls the browser's event loop and with it every
// WebSocket.
//
// What the user sees goes through small view interfaces, such as
// [EchoView], that package dom implements over the page's templates and
// tests implement with a recorder. Everything a view shows is decided
// here, and tested here: the text of a log row ([LogEntry.Row]), where a
// chat line goes ([ChatView.ChatShow]), what a chart draws
// ([Plot.Strokes]). A view only copies it into the page.
//
// # Connections that stay up
//
// [Chat], [Notifications] and [Dashboard] reconnect by themselves. They
// share one piece for that, the unexported socket in socket.go: dial,
// reader, writer, backoff, and generations so that nothing from an old
// connection reaches the client. Read it first; each client is then only
// its protocol. [Echo] connects when the user asks, and keeps its own
// simpler connection.
package app
