package agent

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the daemon-wide limits of the UDF server. The zero value is
// not valid; start from DefaultConfig.
type Config struct {
	// MaxFrameSize caps the length prefix of an incoming frame, in bytes;
	// it is checked before anything is allocated. Only restore requests
	// are large.
	MaxFrameSize int `toml:"max-frame-size"`

	// MaxGroups caps the groups kept per connection (task node). Points of
	// new groups beyond it are dropped and counted, with a warning.
	MaxGroups int `toml:"max-groups"`

	// MaxBatchPoints caps the points of one batch; the rest of the batch is
	// dropped and counted.
	MaxBatchPoints int `toml:"max-batch-points"`

	// MaxQueuedPoints caps the points of the batches waiting for the
	// connection's worker. A batch that would exceed it is dropped and
	// counted, so that the reader never waits for detection.
	MaxQueuedPoints int `toml:"max-queued-points"`

	// MaxDetections caps concurrent S-H-ESD runs over all connections;
	// 0 means GOMAXPROCS.
	MaxDetections int `toml:"max-detections"`

	// StrictRestore answers a restore of an unusable snapshot with
	// success=false (which stops the task) instead of starting fresh.
	StrictRestore bool `toml:"strict-restore"`

	// DrainTimeout bounds how long connections may take to finish their
	// queued work when the server shuts down.
	DrainTimeout time.Duration `toml:"drain-timeout"`
}

// DefaultConfig returns the defaults documented in docs/daemon.md.
func DefaultConfig() Config {
	return Config{
		MaxFrameSize:    64 << 20,
		MaxGroups:       100000,
		MaxBatchPoints:  1 << 20,
		MaxQueuedPoints: 4 << 20,
		DrainTimeout:    10 * time.Second,
	}
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs []error
	if c.MaxFrameSize < 16 {
		errs = append(errs, fmt.Errorf("max frame size: %d is below 16 bytes", c.MaxFrameSize))
	}
	if c.MaxGroups < 1 {
		errs = append(errs, fmt.Errorf("max groups: %d, must be at least 1", c.MaxGroups))
	}
	if c.MaxBatchPoints < 1 {
		errs = append(errs, fmt.Errorf("max batch points: %d, must be at least 1", c.MaxBatchPoints))
	}
	if c.MaxQueuedPoints < c.MaxBatchPoints {
		errs = append(errs, fmt.Errorf("max queued points: %d, must be at least max batch points (%d)", c.MaxQueuedPoints, c.MaxBatchPoints))
	}
	if c.MaxDetections < 0 {
		errs = append(errs, fmt.Errorf("max detections: %d is negative", c.MaxDetections))
	}
	if c.DrainTimeout < 0 {
		errs = append(errs, fmt.Errorf("drain timeout: %s is negative", c.DrainTimeout))
	}
	return errors.Join(errs...)
}
