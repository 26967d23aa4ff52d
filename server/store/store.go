// Package store is the server's durable state — chat history and
// notifications — in one SQLite file, wsplay.db, in a directory of the
// server's (-data). A [Store] implements both chat.Store and notify.Store,
// so one file holds both.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"

	"wsplay/server/chat"
	"wsplay/server/notify"
	"wsplay/shared"
)

// Store is the SQLite database. Make it with [Open]; it is safe for
// concurrent use.
//
// The database runs in WAL mode with synchronous=NORMAL: a committed write
// survives the process being killed (SIGKILL), and is lost only if the
// machine itself crashes within the last moments. Every write happens
// before the server broadcasts or acknowledges it, so what a client saw
// acknowledged is in the file.
type Store struct {
	db     *sql.DB
	unlock func() // gives the directory's lock back
}

// FileName is the database's file in the directory given to Open.
const FileName = "wsplay.db"

// Both interfaces are implemented.
var (
	_ chat.Store   = (*Store)(nil)
	_ notify.Store = (*Store)(nil)
)

// migrations builds the schema one step at a time; PRAGMA user_version
// counts the steps applied. Append, never edit: a database made by an older
// server is upgraded by the steps it has not seen.
var migrations = []string{
	// 1: chat rooms and their messages.
	`CREATE TABLE rooms (
		name     TEXT PRIMARY KEY,
		epoch    TEXT NOT NULL,             -- new when the room's history starts over
		last_seq INTEGER NOT NULL DEFAULT 0,
		updated  INTEGER NOT NULL           -- unix ms of the last message, for eviction
	) WITHOUT ROWID;
	CREATE TABLE messages (
		room      TEXT NOT NULL,
		seq       INTEGER NOT NULL,
		id        TEXT NOT NULL,             -- the client's id, or one the server made
		client_id INTEGER NOT NULL,          -- 1 when id came from the client
		username  TEXT NOT NULL,
		content   TEXT NOT NULL,
		ts        INTEGER NOT NULL,          -- unix ns
		PRIMARY KEY (room, seq)
	) WITHOUT ROWID;
	CREATE UNIQUE INDEX messages_client_id ON messages (room, username, id) WHERE client_id = 1;`,

	// 2: notifications, per user (see notifystore.go).
	`CREATE TABLE notify_users (
		user_id  TEXT PRIMARY KEY,
		last_seq INTEGER NOT NULL DEFAULT 0, -- seq of the user's newest notification
		version  INTEGER NOT NULL DEFAULT 0  -- counts every change: a new notification, a mark read
	) WITHOUT ROWID;
	CREATE TABLE notifications (
		user_id TEXT NOT NULL,
		seq     INTEGER NOT NULL,
		id      TEXT NOT NULL UNIQUE,        -- made by the server
		type    TEXT NOT NULL,
		title   TEXT NOT NULL,
		message TEXT NOT NULL,
		data    TEXT,                        -- JSON as sent, or NULL
		sender  TEXT NOT NULL DEFAULT '',    -- Notification.From
		ts      INTEGER NOT NULL,            -- unix ns
		read    INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (user_id, seq)
	) WITHOUT ROWID;
	CREATE INDEX notifications_unread ON notifications (user_id, seq) WHERE read = 0;`,

	// 3: when each notification user last connected, so that the store can
	// forget the longest-unseen of those who have no notification.
	`ALTER TABLE notify_users ADD COLUMN seen INTEGER NOT NULL DEFAULT 0; -- unix ms
	CREATE INDEX notify_users_quiet ON notify_users (seen) WHERE version = 0;`,

	// 4: which users the store must keep: those who have had a
	// notification from the back end, or connected with a token. The rest
	// (anonymous users and their pokes) may be forgotten to make room.
	`ALTER TABLE notify_users ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
	UPDATE notify_users SET pinned = 1 WHERE user_id IN (SELECT user_id FROM notifications WHERE sender = '');
	DROP INDEX notify_users_quiet;
	CREATE INDEX notify_users_unpinned ON notify_users (seen) WHERE pinned = 0;
	CREATE INDEX notifications_kind ON notifications (user_id, sender = '', seq);`,
}

// ErrLocked says another server uses the directory: two servers on one
// database would each miss the other's messages, so Open refuses.
var ErrLocked = errors.New("another server uses this data directory")

// Open opens (creating if needed) the database under dir and brings
// its schema up to date.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and this way no write
	// ever waits on SQLITE_BUSY.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, unlock: unlock}
	if err := s.migrate(); err != nil {
		db.Close()
		unlock()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) migrate() error {
	var version int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this server (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the database and gives its directory's lock back.
func (s *Store) Close() error {
	err := s.db.Close()
	s.unlock()
	return err
}

// OpenRoom implements chat.Store: it returns the room's state, creating
// the room with a new epoch if it has none. When that makes more than
// maxRooms stored rooms, the least recently active other rooms not inUse
// lose their history (a client resuming in one of them is told, through
// the changed epoch).
func (s *Store) OpenRoom(ctx context.Context, room string, maxRooms int, inUse func(string) bool) (chat.RoomState, error) {
	var st chat.RoomState
	err := s.db.QueryRowContext(ctx, `SELECT epoch, last_seq FROM rooms WHERE name = ?`, room).Scan(&st.Epoch, &st.LastSeq)
	if err == nil {
		return st, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("open room: %w", err)
	}
	st = chat.RoomState{Epoch: newID()}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return st, fmt.Errorf("open room: %w", err)
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	if _, err := tx.ExecContext(ctx, `INSERT INTO rooms (name, epoch, updated) VALUES (?, ?, ?)`, room, st.Epoch, now); err != nil {
		return st, fmt.Errorf("open room: %w", err)
	}
	var count int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM rooms`).Scan(&count); err != nil {
		return st, fmt.Errorf("open room: %w", err)
	}
	var victims []string
	if over := count - maxRooms; over > 0 {
		rows, err := tx.QueryContext(ctx, `SELECT name FROM rooms WHERE name != ? ORDER BY updated`, room)
		if err != nil {
			return st, fmt.Errorf("open room: %w", err)
		}
		for rows.Next() && len(victims) < over {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return st, err
			}
			if inUse == nil || !inUse(name) {
				victims = append(victims, name)
			}
		}
		rows.Close()
	}
	for _, name := range victims {
		if _, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE room = ?`, name); err != nil {
			return st, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM rooms WHERE name = ?`, name); err != nil {
			return st, err
		}
	}
	return st, tx.Commit()
}

// AppendMessage stores a text message as the room's next one and returns it
// with its seq. The room's retention keeps the newest keep messages. If the
// sender had already sent a message with the same client id, nothing is
// stored and the earlier message is returned with dup set.
func (s *Store) AppendMessage(ctx context.Context, m shared.Message, fromClient bool, keep int) (stored shared.Message, dup bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return m, false, fmt.Errorf("append message: %w", err)
	}
	defer tx.Rollback()
	if fromClient {
		earlier, err := scanMessage(tx.QueryRowContext(ctx,
			`SELECT seq, id, username, content, ts FROM messages WHERE room = ? AND username = ? AND id = ? AND client_id = 1`,
			m.Room, m.Username, m.ID), m.Room)
		if err == nil {
			return earlier, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return m, false, fmt.Errorf("append message: %w", err)
		}
	}
	if err := tx.QueryRowContext(ctx, `UPDATE rooms SET last_seq = last_seq + 1, updated = ? WHERE name = ? RETURNING last_seq`,
		time.Now().UnixMilli(), m.Room).Scan(&m.Seq); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			err = chat.ErrRoomGone
		}
		return m, false, fmt.Errorf("append message: room %q: %w", m.Room, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO messages (room, seq, id, client_id, username, content, ts) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		m.Room, m.Seq, m.ID, fromClient, m.Username, m.Content, m.Timestamp.UnixNano()); err != nil {
		return m, false, fmt.Errorf("append message: %w", err)
	}
	if m.Seq > uint64(keep) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE room = ? AND seq <= ?`, m.Room, m.Seq-uint64(keep)); err != nil {
			return m, false, fmt.Errorf("append message: trim: %w", err)
		}
	}
	return m, false, tx.Commit()
}

// MessagesAfter returns the room's stored messages with seq > after, oldest
// first, at most limit of them, and whether the store still holds every
// message after that seq (false when retention has trimmed some).
func (s *Store) MessagesAfter(ctx context.Context, room string, after uint64, limit int) ([]shared.Message, bool, error) {
	var oldest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT min(seq) FROM messages WHERE room = ?`, room).Scan(&oldest); err != nil {
		return nil, false, fmt.Errorf("read history: %w", err)
	}
	complete := !oldest.Valid || uint64(oldest.Int64) <= after+1
	rows, err := s.db.QueryContext(ctx,
		`SELECT seq, id, username, content, ts FROM messages WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?`, room, after, limit)
	if err != nil {
		return nil, false, fmt.Errorf("read history: %w", err)
	}
	defer rows.Close()
	var out []shared.Message
	for rows.Next() {
		m, err := scanMessage(rows, room)
		if err != nil {
			return nil, false, fmt.Errorf("read history: %w", err)
		}
		out = append(out, m)
	}
	return out, complete, rows.Err()
}

// LastMessages returns the room's newest n messages, oldest first.
func (s *Store) LastMessages(ctx context.Context, room string, n int) ([]shared.Message, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT seq, id, username, content, ts FROM (SELECT * FROM messages WHERE room = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`, room, n)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer rows.Close()
	var out []shared.Message
	for rows.Next() {
		m, err := scanMessage(rows, room)
		if err != nil {
			return nil, fmt.Errorf("read history: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func scanMessage(row interface{ Scan(...any) error }, room string) (shared.Message, error) {
	m := shared.Message{Type: shared.TypeText, Room: room}
	var ts int64
	if err := row.Scan(&m.Seq, &m.ID, &m.Username, &m.Content, &ts); err != nil {
		return m, err
	}
	m.Timestamp = time.Unix(0, ts).UTC()
	return m, nil
}

// newID returns a random 128-bit identifier, 26 base32 characters.
func newID() string { return rand.Text() }
