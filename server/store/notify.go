package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"wsplay/server/notify"
	"wsplay/shared"
)

// The notification tables (migrations 2 to 4 in store.go):
//
//   - notify_users has one row per user who has had a notification or
//     connected to /ws/notifications: the seq of their newest notification,
//     a version that counts every change to their notifications, when
//     they last connected, and whether they are pinned: they have had a
//     notification from the back end, or connected with a token. A
//     broadcast reaches exactly these users. There are at most
//     Limits.MaxUsers: a new user beyond it makes the store forget the
//     longest-unseen user who is not pinned and not online (with their
//     pokes, which anyone could have sent); if there is none, the new
//     user is refused (notify.ErrFull).
//   - notifications holds each user's newest notifications, keyed by
//     (user_id, seq): Limits.Keep from the back end (sender ''), and
//     separately Limits.KeepPokes pokes, so that pokes never push a
//     notification from the back end out.
//
// A user's seq and version are allocated in the same transaction as the
// change they number, so they increase in commit order with no gap
// (seq) and tell a connection which changes its snapshot already holds
// (version).

// AddNotifications stores each of ns for its UserID (ID, Timestamp and
// the content already set) and returns the changes, in order. With
// knownOnly, a notification for a user the store does not know is refused
// with notify.ErrUnknownUser; otherwise it makes the user known, or fails with
// notify.ErrFull. Nothing is stored if any of ns is refused.
func (s *Store) AddNotifications(ctx context.Context, ns []shared.Notification, lim notify.Limits, knownOnly bool) ([]notify.Change, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("add notification: %w", err)
	}
	defer tx.Rollback()
	changes := make([]notify.Change, 0, len(ns))
	for _, n := range ns {
		ch, err := insertNotification(ctx, tx, n, lim)
		if errors.Is(err, notify.ErrUnknownUser) && !knownOnly {
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

// BroadcastNotification stores a copy of tmpl, each with an id from
// newID, for every user in notify_users, in one transaction.
func (s *Store) BroadcastNotification(ctx context.Context, tmpl shared.Notification, lim notify.Limits) ([]notify.Change, error) {
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
	changes := make([]notify.Change, 0, len(users))
	for _, u := range users {
		n := tmpl
		n.UserID, n.ID = u, newID()
		ch, err := insertNotification(ctx, tx, n, lim)
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
// notify.ErrUnknownUser if the store does not know the user (see addUser).
func insertNotification(ctx context.Context, tx *sql.Tx, n shared.Notification, lim notify.Limits) (notify.Change, error) {
	ch := notify.Change{User: n.UserID}
	fromBackEnd := n.From == ""
	err := tx.QueryRowContext(ctx, `UPDATE notify_users SET last_seq = last_seq + 1, version = version + 1, pinned = pinned OR ?
		WHERE user_id = ? RETURNING last_seq, version`, fromBackEnd, n.UserID).Scan(&n.Seq, &ch.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return ch, notify.ErrUnknownUser
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
	// Retention: the newest of each kind, each within its own budget.
	keep := lim.Keep
	if !fromBackEnd {
		keep = lim.KeepPokes
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE user_id = ? AND (sender = '') = ? AND seq <= (
		SELECT seq FROM notifications WHERE user_id = ? AND (sender = '') = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
		n.UserID, fromBackEnd, n.UserID, fromBackEnd, max(keep, 1)); err != nil {
		return ch, fmt.Errorf("trim: %w", err)
	}
	if ch.Unread, err = countUnread(ctx, tx, n.UserID); err != nil {
		return ch, err
	}
	ch.Note = &n
	return ch, nil
}

// MarkRead marks the user's notification id read. changed is false when
// it was read already; notify.ErrNotYours when it is not the user's.
func (s *Store) MarkRead(ctx context.Context, user, id string) (ch notify.Change, changed bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ch, false, fmt.Errorf("mark read: %w", err)
	}
	defer tx.Rollback()
	var read bool
	err = tx.QueryRowContext(ctx, `SELECT read FROM notifications WHERE id = ? AND user_id = ?`, id, user).Scan(&read)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ch, false, notify.ErrNotYours
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
	ch.ReadIDs = []string{id}
	return ch, true, tx.Commit()
}

// MarkAllRead marks every unread notification of the user with a seq up
// to upTo read; upTo 0 means up to the newest. changed is false when
// there was none.
func (s *Store) MarkAllRead(ctx context.Context, user string, upTo uint64) (ch notify.Change, changed bool, err error) {
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
	ch.ReadUpTo = upTo
	return ch, true, tx.Commit()
}

// bumpVersion counts a change to the user's notifications and returns it
// with the new unread count.
func bumpVersion(ctx context.Context, tx *sql.Tx, user string) (notify.Change, error) {
	ch := notify.Change{User: user}
	err := tx.QueryRowContext(ctx, `UPDATE notify_users SET version = version + 1 WHERE user_id = ? RETURNING version`, user).Scan(&ch.Version)
	if err != nil {
		return ch, err
	}
	ch.Unread, err = countUnread(ctx, tx, user)
	return ch, err
}

func countUnread(ctx context.Context, tx *sql.Tx, user string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE user_id = ? AND read = 0`, user).Scan(&n)
	return n, err
}

// insertForNewUser makes n's user, whom the store does not know, known if
// there is room, and stores n; notify.ErrFull if there is none.
func insertForNewUser(ctx context.Context, tx *sql.Tx, n shared.Notification, lim notify.Limits) (notify.Change, error) {
	added, err := addUser(ctx, tx, n.UserID, lim)
	if err != nil {
		return notify.Change{}, err
	}
	if !added {
		return notify.Change{}, notify.ErrFull
	}
	return insertNotification(ctx, tx, n, lim)
}

// addUser makes user, whom the store does not know, known, making room if
// needed (see the tables' description above). It reports false, and adds
// nobody, when there is no room.
func addUser(ctx context.Context, tx *sql.Tx, user string, lim notify.Limits) (bool, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO notify_users (user_id, seen) VALUES (?, ?)`, user, time.Now().UnixMilli()); err != nil {
		return false, err
	}
	var count int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM notify_users`).Scan(&count); err != nil {
		return false, err
	}
	over := count - max(lim.MaxUsers, 1)
	if over <= 0 {
		return true, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT user_id FROM notify_users WHERE pinned = 0 AND user_id != ? ORDER BY seen, user_id`, user)
	if err != nil {
		return false, err
	}
	var forget []string
	for rows.Next() && len(forget) < over {
		var u string
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return false, err
		}
		if lim.InUse == nil || !lim.InUse(u) {
			forget = append(forget, u)
		}
	}
	rows.Close()
	if len(forget) < over {
		// Everyone else must be kept: the new user cannot be.
		_, err = tx.ExecContext(ctx, `DELETE FROM notify_users WHERE user_id = ?`, user)
		return false, err
	}
	for _, u := range forget {
		if _, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE user_id = ?`, u); err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM notify_users WHERE user_id = ?`, u); err != nil {
			return false, err
		}
	}
	return true, nil
}

// NotifySnapshot makes user known (so that broadcasts reach them;
// snap.Known is false if the store is full) and returns, in one
// transaction, what a connection is sent first: with resume, every stored
// notification after since (all of them when since is beyond the newest,
// as after a reset of the data); without, the unread ones.
func (s *Store) NotifySnapshot(ctx context.Context, user string, since uint64, resume bool, lim notify.Limits, pin bool) (notify.Snapshot, error) {
	var snap notify.Snapshot
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return snap, fmt.Errorf("read notifications: %w", err)
	}
	defer tx.Rollback()
	// A known user is marked seen now; a new one is added.
	err = tx.QueryRowContext(ctx, `UPDATE notify_users SET seen = ?, pinned = pinned OR ? WHERE user_id = ? RETURNING 1`,
		time.Now().UnixMilli(), pin, user).Scan(&snap.Known)
	if errors.Is(err, sql.ErrNoRows) {
		snap.Known, err = addUser(ctx, tx, user, lim)
		if err == nil && snap.Known && pin {
			_, err = tx.ExecContext(ctx, `UPDATE notify_users SET pinned = 1 WHERE user_id = ?`, user)
		}
	}
	if err != nil {
		return snap, fmt.Errorf("read notifications: %w", err)
	}
	err = tx.QueryRowContext(ctx, `SELECT last_seq, version FROM notify_users WHERE user_id = ?`, user).Scan(&snap.LastSeq, &snap.Version)
	if err != nil && !(errors.Is(err, sql.ErrNoRows) && !snap.Known) {
		return snap, fmt.Errorf("read notifications: %w", err)
	}
	if resume && since > snap.LastSeq {
		since = 0
	}
	query := `SELECT ` + notifyColumns + ` FROM notifications WHERE user_id = ? AND read = 0 ORDER BY seq`
	args := []any{user}
	if resume {
		query = `SELECT ` + notifyColumns + ` FROM notifications WHERE user_id = ? AND seq > ? ORDER BY seq`
		args = append(args, since)
	}
	if snap.Notes, err = queryNotifications(ctx, tx, query, args...); err != nil {
		return snap, fmt.Errorf("read notifications: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM notifications WHERE user_id = ? AND read = 0 ORDER BY seq`, user)
	if err != nil {
		return snap, fmt.Errorf("read notifications: %w", err)
	}
	defer rows.Close()
	snap.UnreadIDs = []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return snap, fmt.Errorf("read notifications: %w", err)
		}
		snap.UnreadIDs = append(snap.UnreadIDs, id)
	}
	if err := rows.Err(); err != nil {
		return snap, fmt.Errorf("read notifications: %w", err)
	}
	rows.Close()
	return snap, tx.Commit()
}

// ListNotifications returns the user's stored notifications, or only the
// unread ones, oldest first.
func (s *Store) ListNotifications(ctx context.Context, user string, unreadOnly bool) ([]shared.Notification, error) {
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
