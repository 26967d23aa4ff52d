package store

import "context"

// IndexReads returns how many times s read every user's index.
func IndexReads(s *JetStreamNotify) int64 { return s.scans.Load() }

// UserCount returns how many users the bucket of s holds now.
func UserCount(ctx context.Context, s *JetStreamNotify) (int, error) {
	users, err := s.users(ctx)
	return len(users), err
}
