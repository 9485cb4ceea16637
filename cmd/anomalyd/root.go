package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "anomalyd",
		Short: "S-H-ESD anomaly detection for Kapacitor, one alert per anomalous point",
		Long: `anomalyd is a Kapacitor user-defined function (UDF) that finds anomalies in
each group's time series with Twitter's Seasonal Hybrid ESD and emits every
anomalous point as its own point, so that |alert() raises one alert per
anomaly.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newServeCmd(),
		newHealthCmd(),
		newConfigCmd(),
		newDetectCmd(),
		newVersionCmd(),
	)
	return root
}
