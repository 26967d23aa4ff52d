//go:build !js

package app

import "github.com/coder/websocket"

// readCloseError returns the error that explains why a Read failed. Natively
// that is the error itself; see closeerr_js.go for the browser.
func readCloseError(_ *websocket.Conn, err error) error { return err }
