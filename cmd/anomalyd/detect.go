package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newDetectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "detect FILE|-",
		Short: "Run S-H-ESD on a CSV file (offline backtest)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("detect: not implemented yet")
		},
	}
}
