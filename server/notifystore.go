package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"wsplay/shared"
)

// The notification tables (migration 2 in store.go):
//
//   - notify_users has one row per user who has had a notification or
//     connected to /ws/notifications: the seq of their newest notification,
//     a version that counts every change to their notifications, and when
//     they last connected. A broadcast reaches exactly these users. There
//     are at most Config.NotifyMaxUsers: a new user beyond it makes the
//     store forget the longest-unseen user who has no notification (version
//     0: nothing to lose, and no connection of theirs holds a version that
//     a new row would repeat); if every user has some, the new user is
//     refused (errNotifyFull).
//   - notifications holds each user's newest notifications (retention
//     trims older ones, read or not), keyed by (user_id, seq).
//
// A user's seq and version are allocated in the same transaction as the
// change they number, so they increase in commit order with no gap
// (seq) and tell a connection which changes its snapshot already holds
// (version).

// notifyChange is one committed change to a user's notifications: what
// the user's connections are told. Exactly one of note, readIDs and
// readUpTo is set.
type notifyChange struct {
	user    string
	version uint64 // the change's position among the user's changes
	unread  int    // the user's unread count after the change

	note     *shared.Notification // a new notification
	readIDs  []string             // these were marked read
	readUpTo uint64               // every notification up to this seq was marked read
}

// notifySnapshot is what a connecting client is sent before live changes.
type notifySnapshot struct {
	notes     []shared.Notification // what the connection asked for, oldest first
	lastSeq   uint64                // the user's newest seq
	version   uint64                // the user's newest change included
	unreadIDs []string              // every unread notification, oldest first
	known     bool                  // false: the store is full and does not keep the user
}

// errNotifyFull refuses a notification for a new user when the store
// knows Config.NotifyMaxUsers users already, every one with notifications.
var errNotifyFull = errors.New("the notification store is full: every user it may keep has notifications")

// errUnknownUser refuses a poke to a user the store does not know: one who
// has never connected and never had a notification.
var errUnknownUser = errors.New("no such user")

// errNotYours answers a mark-read of an id that is not one of the user's
// notifications: someone else's, or none at all. The two are not told
// apart, so that nobody learns which ids exist.
var errNotYours = errors.New("not one of your notifications")

// notifyLimits are the store's bounds (see Config).
type notifyLimits struct {
	keep     int // notifications per user
	maxUsers int
}

// addNotifications stores each of ns for its UserID (ID, Timestamp and
// the content already set) and returns the changes, in order. With
// knownOnly, a notification for a user the store does not know is refused
// with errUnknownUser; otherwise it makes the user known, or fails with
// errNotifyFull. Nothing is stored if any of ns is refused.
func (s *store) addNotifications(ctx context.Context, ns []shared.Notification, lim notifyLimits, knownOnly bool) ([]notifyChange, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("add notification: %w", err)
	}
	defer tx.Rollback()
	changes := make([]notifyChange, 0, len(ns))
	for _, n := range ns {
		ch, err := insertNotification(ctx, tx, n, lim.keep)
		if errors.Is(err, errUnknownUser) && !knownOnly {
			ch, err = insertForNewUser(ctx, tx, n, lim)
		}
		if err != nil {
			return nil, fmt.Errorf("add notification: %w", err)
		}
		changes = append(changes, ch)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("add notification: %w", err)
	}
	return changes, nil
}

// broadcastNotification stores a copy of tmpl, each with an id from
// newID, for every user in notify_users, in one transaction.
func (s *store) broadcastNotification(ctx context.Context, tmpl shared.Notification, keep int) ([]notifyChange, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("broadcast notification: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT user_id FROM notify_users ORDER BY user_id`)
	if err != nil {
		return nil, fmt.Errorf("broadcast notification: %w", err)
	}
	var users []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return nil, fmt.Errorf("broadcast notification: %w", err)
		}
		users = append(users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("broadcast notification: %w", err)
	}
	changes := make([]notifyChange, 0, len(users))
	for _, u := range users {
		n := tmpl
		n.UserID, n.ID = u, newID()
		ch, err := insertNotification(ctx, tx, n, keep)
		if err != nil {
			return nil, fmt.Errorf("broadcast notification: %w", err)
		}
		changes = append(changes, ch)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("broadcast notification: %w", err)
	}
	return changes, nil
}

// insertNotification stores n as its user's next notification, trims the
// user's oldest beyond keep, and returns the change. It returns
// errUnknownUser if the store does not know the user (see addUser).
func insertNotification(ctx context.Context, tx *sql.Tx, n shared.Notification, keep int) (notifyChange, error) {
	ch := notifyChange{user: n.UserID}
	err := tx.QueryRowContext(ctx, `UPDATE notify_users SET last_seq = last_seq + 1, version = version + 1
		WHERE user_id = ? RETURNING last_seq, version`, n.UserID).Scan(&n.Seq, &ch.version)
	if errors.Is(err, sql.ErrNoRows) {
		return ch, errUnknownUser
	}
	if err != nil {
		return ch, err
	}
	var data any // NULL when there is none
	if len(n.Data) > 0 {
		data = string(n.Data)
	}
	n.Read = false
	if _, err := tx.ExecContext(ctx, `INSERT INTO notifications (user_id, seq, id, type, title, message, data, sender, ts)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.UserID, n.Seq, n.ID, n.Type, n.Title, n.Message, data, n.From, n.Timestamp.UnixNano()); err != nil {
		return ch, err
	}
	if n.Seq > uint64(keep) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE user_id = ? AND seq <= ?`, n.UserID, n.Seq-uint64(keep)); err != nil {
			return ch, fmt.Errorf("trim: %w", err)
		}
	}
	if ch.unread, err = countUnread(ctx, tx, n.UserID); err != nil {
		return ch, err
	}
	ch.note = &n
	return ch, nil
}

// markRead marks the user's notification id read. changed is false when
// it was read already; errNotYours when it is not the user's.
func (s *store) markRead(ctx context.Context, user, id string) (ch notifyChange, changed bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ch, false, fmt.Errorf("mark read: %w", err)
	}
	defer tx.Rollback()
	var read bool
	err = tx.QueryRowContext(ctx, `SELECT read FROM notifications WHERE id = ? AND user_id = ?`, id, user).Scan(&read)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ch, false, errNotYours
	case err != nil:
		return ch, false, fmt.Errorf("mark read: %w", err)
	case read:
		return ch, false, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE notifications SET read = 1 WHERE id = ?`, id); err != nil {
		return ch, false, fmt.Errorf("mark read: %w", err)
	}
	ch, err = bumpVersion(ctx, tx, user)
	if err != nil {
		return ch, false, fmt.Errorf("mark read: %w", err)
	}
	ch.readIDs = []string{id}
	return ch, true, tx.Commit()
}

// markAllRead marks every unread notification of the user with a seq up
// to upTo read; upTo 0 means up to the newest. changed is false when
// there was none.
func (s *store) markAllRead(ctx context.Context, user string, upTo uint64) (ch notifyChange, changed bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ch, false, fmt.Errorf("mark all read: %w", err)
	}
	defer tx.Rollback()
	var last uint64
	err = tx.QueryRowContext(ctx, `SELECT last_seq FROM notify_users WHERE user_id = ?`, user).Scan(&last)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ch, false, nil
	case err != nil:
		return ch, false, fmt.Errorf("mark all read: %w", err)
	}
	if upTo == 0 || upTo > last {
		upTo = last
	}
	res, err := tx.ExecContext(ctx, `UPDATE notifications SET read = 1 WHERE user_id = ? AND seq <= ? AND read = 0`, user, upTo)
	if err != nil {
		return ch, false, fmt.Errorf("mark all read: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return ch, false, err
	}
	ch, err = bumpVersion(ctx, tx, user)
	if err != nil {
		return ch, false, fmt.Errorf("mark all read: %w", err)
	}
	ch.readUpTo = upTo
	return ch, true, tx.Commit()
}

// bumpVersion counts a change to the user's notifications and returns it
// with the new unread count.
func bumpVersion(ctx context.Context, tx *sql.Tx, user string) (notifyChange, error) {
	ch := notifyChange{user: user}
	err := tx.QueryRowContext(ctx, `UPDATE notify_users SET version = version + 1 WHERE user_id = ? RETURNING version`, user).Scan(&ch.version)
	if err != nil {
		return ch, err
	}
	ch.unread, err = countUnread(ctx, tx, user)
	return ch, err
}

func countUnread(ctx context.Context, tx *sql.Tx, user string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE user_id = ? AND read = 0`, user).Scan(&n)
	return n, err
}

// insertForNewUser makes n's user, whom the store does not know, known if
// there is room, and stores n; errNotifyFull if there is none.
func insertForNewUser(ctx context.Context, tx *sql.Tx, n shared.Notification, lim notifyLimits) (notifyChange, error) {
	added, err := addUser(ctx, tx, n.UserID, lim.maxUsers)
	if err != nil {
		return notifyChange{}, err
	}
	if !added {
		return notifyChange{}, errNotifyFull
	}
	return insertNotification(ctx, tx, n, lim.keep)
}

// addUser makes user, whom the store does not know, known, making room if
// needed (see the tables' description above). It reports false, and adds
// nobody, when there is no room.
func addUser(ctx context.Context, tx *sql.Tx, user string, maxUsers int) (bool, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO notify_users (user_id, seen) VALUES (?, ?)`, user, time.Now().UnixMilli()); err != nil {
		return false, err
	}
	var count int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM notify_users`).Scan(&count); err != nil {
		return false, err
	}
	over := count - maxUsers
	if over <= 0 {
		return true, nil
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM notify_users WHERE user_id IN
		(SELECT user_id FROM notify_users WHERE version = 0 AND user_id != ? ORDER BY seen, user_id LIMIT ?)`, user, over)
	if err != nil {
		return false, err
	}
	if forgot, err := res.RowsAffected(); err != nil || forgot >= int64(over) {
		return err == nil, err
	}
	// Everyone else has notifications: the new user cannot be kept.
	_, err = tx.ExecContext(ctx, `DELETE FROM notify_users WHERE user_id = ?`, user)
	return false, err
}

// notifySnapshot makes user known (so that broadcasts reach them;
// snap.known is false if the store is full) and returns, in one
// transaction, what a connection is sent first: with resume, every stored
// notification after since (all of them when since is beyond the newest,
// as after a reset of the data); without, the unread ones.
func (s *store) notifySnapshot(ctx context.Context, user string, since uint64, resume bool, maxUsers int) (notifySnapshot, error) {
	var snap notifySnapshot
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return snap, fmt.Errorf("read notifications: %w", err)
	}
	defer tx.Rollback()
	// A known user is marked seen now; a new one is added.
	err = tx.QueryRowContext(ctx, `UPDATE notify_users SET seen = ? WHERE user_id = ? RETURNING 1`, time.Now().UnixMilli(), user).Scan(&snap.known)
	if errors.Is(err, sql.ErrNoRows) {
		snap.known, err = addUser(ctx, tx, user, maxUsers)
	}
	if err != nil {
		return snap, fmt.Errorf("read notifications: %w", err)
	}
	err = tx.QueryRowContext(ctx, `SELECT last_seq, version FROM notify_users WHERE user_id = ?`, user).Scan(&snap.lastSeq, &snap.version)
	if err != nil && !(errors.Is(err, sql.ErrNoRows) && !snap.known) {
		return snap, fmt.Errorf("read notifications: %w", err)
	}
	if resume && since > snap.lastSeq {
		since = 0
	}
	query := `SELECT ` + notifyColumns + ` FROM notifications WHERE user_id = ? AND read = 0 ORDER BY seq`
	args := []any{user}
	if resume {
		query = `SELECT ` + notifyColumns + ` FROM notifications WHERE user_id = ? AND seq > ? ORDER BY seq`
		args = append(args, since)
	}
	if snap.notes, err = queryNotifications(ctx, tx, query, args...); err != nil {
		return snap, fmt.Errorf("read notifications: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM notifications WHERE user_id = ? AND read = 0 ORDER BY seq`, user)
	if err != nil {
		return snap, fmt.Errorf("read notifications: %w", err)
	}
	defer rows.Close()
	snap.unreadIDs = []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return snap, fmt.Errorf("read notifications: %w", err)
		}
		snap.unreadIDs = append(snap.unreadIDs, id)
	}
	if err := rows.Err(); err != nil {
		return snap, fmt.Errorf("read notifications: %w", err)
	}
	rows.Close()
	return snap, tx.Commit()
}

// listNotifications returns the user's stored notifications, or only the
// unread ones, oldest first.
func (s *store) listNotifications(ctx context.Context, user string, unreadOnly bool) ([]shared.Notification, error) {
	query := `SELECT ` + notifyColumns + ` FROM notifications WHERE user_id = ? ORDER BY seq`
	if unreadOnly {
		query = `SELECT ` + notifyColumns + ` FROM notifications WHERE user_id = ? AND read = 0 ORDER BY seq`
	}
	notes, err := queryNotifications(ctx, s.db, query, user)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	return notes, nil
}

const notifyColumns = `user_id, seq, id, type, title, message, data, sender, ts, read`

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryNotifications(ctx context.Context, q querier, query string, args ...any) ([]shared.Notification, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []shared.Notification{}
	for rows.Next() {
		var (
			n    shared.Notification
			data sql.NullString
			ts   int64
		)
		if err := rows.Scan(&n.UserID, &n.Seq, &n.ID, &n.Type, &n.Title, &n.Message, &data, &n.From, &ts, &n.Read); err != nil {
			return nil, err
		}
		if data.Valid {
			n.Data = []byte(data.String)
		}
		n.Timestamp = time.Unix(0, ts).UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}
