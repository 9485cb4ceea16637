package state

import "errors"

// Errors returned by Store.Merge and Store.Restore.
var (
	// ErrTooManyGroups: a batch for a new group arrived while the store
	// already holds Config.MaxGroups groups. The batch is not stored.
	ErrTooManyGroups = errors.New("too many groups")

	// ErrCorrupt: the snapshot is not one of ours, is truncated, fails its
	// checksum or does not decode.
	ErrCorrupt = errors.New("corrupt snapshot")

	// ErrVersion: the snapshot was written by an unknown format version.
	ErrVersion = errors.New("unsupported snapshot version")

	// ErrFingerprint: the snapshot was taken with options that give the
	// history another meaning (field, period or history differ).
	ErrFingerprint = errors.New("snapshot taken with other options")
)
