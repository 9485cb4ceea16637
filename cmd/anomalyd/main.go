// Command anomalyd is a Kapacitor user-defined function that finds anomalies
// with Twitter's Seasonal Hybrid ESD, and an offline backtest tool for it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "anomalyd:", err)
		os.Exit(1)
	}
}
