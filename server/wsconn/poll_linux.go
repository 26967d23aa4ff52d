package wsconn

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// The poller watches the sockets of parked connections with one epoll
// instance for the process, on one goroutine; both exist while any
// connection is registered. Each registration is one-shot: an event
// disarms it, and the reader it starts arms it again when it parks.
// The event carries the connection's id, not its file descriptor, so an
// event for a socket closed meanwhile (whose number a new socket may
// have taken) finds no one.
var poller = struct {
	mu      sync.Mutex
	epfd    int // -1 while the poller's goroutine does not run
	wake    [2]int
	conns   map[uint64]*Conn
	nextID  uint64
	running bool
	err     error // why epoll could not be set up; then nothing parks
}{epfd: -1}

// wakeID is the id of the pipe that stops the poller's goroutine.
const wakeID = 0

// pollable returns the raw socket of nc if the poller can watch it:
// plain TCP, whose readiness the kernel reports (a TLS connection holds
// decrypted bytes the kernel knows nothing of).
func pollable(nc net.Conn) syscall.RawConn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// arm registers c's socket, or arms it again, for one readable event.
func arm(c *Conn) error {
	p := &poller
	p.mu.Lock()
	if err := setUpPoller(); err != nil {
		p.mu.Unlock()
		return err
	}
	if c.pollID == 0 {
		p.nextID++
		c.pollID = p.nextID
		p.conns[c.pollID] = c
	}
	if !p.running {
		p.running = true
		go pollLoop()
	}
	epfd, id := p.epfd, c.pollID
	p.mu.Unlock()

	ev := syscall.EpollEvent{
		Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT,
		Fd:     int32(uint32(id)), Pad: int32(uint32(id >> 32)),
	}
	var ctlErr error
	// Control holds the socket open while it runs, so its number is
	// still this socket's.
	err := c.rc.Control(func(fd uintptr) {
		ctlErr = syscall.EpollCtl(epfd, syscall.EPOLL_CTL_MOD, int(fd), &ev)
		if errors.Is(ctlErr, syscall.ENOENT) { // the first time
			ctlErr = syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
		}
	})
	if err = errors.Join(err, ctlErr); err != nil {
		// The socket is closed: the connection is ending, and its end
		// may have forgotten it before this registration.
		forget(c)
	}
	return err
}

// forget removes c from the poller once it has ended (closing the
// socket took it out of the epoll set), and stops the poller's goroutine
// when no connection is left.
func forget(c *Conn) {
	p := &poller
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.pollID == 0 {
		return
	}
	delete(p.conns, c.pollID)
	if len(p.conns) == 0 && p.running {
		syscall.Write(p.wake[1], []byte{0})
	}
}

// setUpPoller makes the epoll instance and its wake pipe, if they are
// not there. Called with the poller's lock held.
func setUpPoller() error {
	p := &poller
	if p.epfd >= 0 || p.err != nil {
		return p.err
	}
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		p.err = err
		return err
	}
	if err := syscall.Pipe2(p.wake[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		syscall.Close(epfd)
		p.err = err
		return err
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: wakeID}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p.wake[0], &ev); err != nil {
		syscall.Close(epfd)
		p.err = err
		return err
	}
	p.epfd, p.conns = epfd, map[uint64]*Conn{}
	return nil
}

// pollLoop waits for events and starts a reader for each connection
// whose socket became readable (or was hung up on), until no connection
// is registered.
func pollLoop() {
	p := &poller
	events := make([]syscall.EpollEvent, 128)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if !errors.Is(err, syscall.EINTR) {
				time.Sleep(10 * time.Millisecond) // cannot happen with a valid epfd; do not spin
			}
			continue
		}
		for _, ev := range events[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			p.mu.Lock()
			if id == wakeID {
				var b [64]byte
				syscall.Read(p.wake[0], b[:])
				if len(p.conns) == 0 {
					// Nothing to watch: the descriptors go too, and the
					// next connection to park makes them anew.
					syscall.Close(p.epfd)
					syscall.Close(p.wake[0])
					syscall.Close(p.wake[1])
					p.epfd, p.running = -1, false
					p.mu.Unlock()
					return
				}
				p.mu.Unlock()
				continue
			}
			c := p.conns[id]
			p.mu.Unlock()
			if c != nil && c.unpark() {
				go c.readLoop()
			}
		}
	}
}
