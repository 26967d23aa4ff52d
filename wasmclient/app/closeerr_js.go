package app

import (
	"errors"
	"net"
	"reflect"
	"unsafe"

	"github.com/coder/websocket"
)

// readCloseError returns the error that explains why a Read failed.
//
// In the browser, coder/websocket v1.8.15 keeps the close frame's code and
// reason in an unexported field and has Read return net.ErrClosed
// (upstream: coder/websocket pull request 505). Natively, Read returns the
// CloseError itself. Until upstream returns it in the browser too, this
// reads the field, so that the page can say why the server closed. The
// test TestEchoShowsWhyTheServerClosed, run as WebAssembly, fails if a
// coder/websocket upgrade changes the field.
func readCloseError(conn *websocket.Conn, err error) error {
	if !errors.Is(err, net.ErrClosed) {
		return err
	}
	f := reflect.ValueOf(conn).Elem().FieldByName("closeErr")
	if !f.IsValid() || f.Kind() != reflect.Interface {
		return err
	}
	// The field is set before the connection's closed channel is closed,
	// and Read returned after that, so this read does not race.
	closeErr, _ := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(error)
	if closeErr == nil {
		return err
	}
	return closeErr
}

// abandon closes a connection the client has given up on, and returns
// once the browser reports it closed. CloseNow would do nothing here: it
// asks for 1001, which the WebSocket API refuses to send. A close with a
// code of the application's range starts the closing handshake; on a
// dead connection the browser gives up on it by itself, after its own
// timeout.
func abandon(conn *websocket.Conn, reason string) { conn.Close(4000, reason) }
