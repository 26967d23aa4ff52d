//go:build !js

package app

import "github.com/coder/websocket"

// readCloseError returns the error that explains why a Read failed. Natively
// that is the error itself; see closeerr_js.go for the browser.
func readCloseError(_ *websocket.Conn, err error) error { return err }

// abandon closes a connection the client has given up on, at once: a
// dead connection would not answer a closing handshake. See
// closeerr_js.go for the browser.
func abandon(conn *websocket.Conn, _ string) { conn.CloseNow() }
