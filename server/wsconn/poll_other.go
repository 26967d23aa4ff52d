//go:build !linux

package wsconn

import (
	"errors"
	"net"
	"syscall"
)

// pollable returns nil: without epoll, every connection keeps a reading
// goroutine for its whole life.
func pollable(net.Conn) syscall.RawConn { return nil }

func arm(*Conn) error { return errors.New("wsconn: no poller on this system") }

func forget(*Conn) {}
