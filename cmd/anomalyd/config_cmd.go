package main

import (
	"os"

	"github.com/spf13/cobra"
)

func newConfigCmd() *cobra.Command {
	flagCfg := DefaultConfig()
	cmd := &cobra.Command{
		Use:   "config [--config FILE] [flags of serve]",
		Short: "Check the configuration and print the one in effect, as TOML",
		Long: `config loads the configuration as serve would: the defaults, then the --config
file (or $ANOMALYD_CONFIG), then the ANOMALYD_SECTION_KEY environment variables,
then the flags given here (the same as serve's). If every key is known and every
value valid, it prints the result as TOML, a file serve accepts; otherwise it
lists every problem, with where the value came from, and exits 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(configFile(cmd.Flags()), os.Environ(), cmd.Flags(), &flagCfg)
			if err != nil {
				return err
			}
			return writeConfig(cmd.OutOrStdout(), cfg)
		},
	}
	addConfigFlags(cmd.Flags(), &flagCfg)
	return cmd
}
