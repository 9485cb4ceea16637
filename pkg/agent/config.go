package agent

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the daemon-wide limits of the UDF server. The zero value is
// not valid; start from DefaultConfig. Keys are the [agent] section of the
// configuration file; every error of Validate starts with the key.
type Config struct {
	// MaxFrameSize caps the length prefix of an incoming frame, in bytes;
	// it is checked before anything is allocated. Only restore requests
	// are large.
	MaxFrameSize int `toml:"max_frame_size"`

	// MaxGroups caps the groups kept per connection (task node). Points of
	// new groups beyond it are dropped and counted, with a warning.
	MaxGroups int `toml:"max_groups"`

	// MaxBatchPoints caps the points of one batch; the rest of the batch is
	// dropped and counted.
	MaxBatchPoints int `toml:"max_batch_points"`

	// MaxQueuedPoints caps the points of the batches waiting for the
	// connection's worker. A batch that would exceed it is dropped and
	// counted, so that the reader never waits for detection.
	MaxQueuedPoints int `toml:"max_queued_points"`

	// MaxDetections caps concurrent S-H-ESD runs over all connections;
	// 0 means GOMAXPROCS.
	MaxDetections int `toml:"max_detections"`

	// StrictRestore answers a restore of an unusable snapshot with
	// success=false (which stops the task) instead of starting fresh.
	StrictRestore bool `toml:"strict_restore"`

	// ShutdownTimeout bounds how long connections may take to finish their
	// queued work (in-flight detections included) when the server shuts
	// down; then they are closed.
	ShutdownTimeout time.Duration `toml:"shutdown_timeout"`

	// Defaults are the options a task node starts from before its
	// TICKscript options are applied (the [detect] section, see
	// DetectConfig.Options). DefaultConfig sets DefaultOptions.
	Defaults Options `toml:"-"`
}

// DefaultConfig returns the defaults documented in docs/daemon.md.
func DefaultConfig() Config {
	return Config{
		MaxFrameSize:    64 << 20,
		MaxGroups:       100000,
		MaxBatchPoints:  1 << 20,
		MaxQueuedPoints: 4 << 20,
		ShutdownTimeout: 10 * time.Second,
		Defaults:        DefaultOptions(),
	}
}

// Validate reports every invalid setting, each error starting with its key.
func (c Config) Validate() error {
	var errs []error
	if c.MaxFrameSize < 16 {
		errs = append(errs, fmt.Errorf("max_frame_size: %d is below 16 bytes", c.MaxFrameSize))
	}
	if c.MaxGroups < 1 {
		errs = append(errs, fmt.Errorf("max_groups: %d, must be at least 1", c.MaxGroups))
	}
	if c.MaxBatchPoints < 1 {
		errs = append(errs, fmt.Errorf("max_batch_points: %d, must be at least 1", c.MaxBatchPoints))
	}
	if c.MaxQueuedPoints < c.MaxBatchPoints {
		errs = append(errs, fmt.Errorf("max_queued_points: %d, must be at least max_batch_points (%d)", c.MaxQueuedPoints, c.MaxBatchPoints))
	}
	if c.MaxDetections < 0 {
		errs = append(errs, fmt.Errorf("max_detections: %d is negative", c.MaxDetections))
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("shutdown_timeout: %s is negative", c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}
