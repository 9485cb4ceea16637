package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/anomalyd/anomalyd/pkg/detect"
)

// plotSeries draws the series, the expected values and the anomalies to a
// PNG or SVG file (chosen by the extension).
func plotSeries(path string, s *series, expected []float64, anoms []detect.Anomaly, title string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".png" && ext != ".svg" {
		return fmt.Errorf("%s: want a .png or .svg file", path)
	}
	x := func(i int) float64 {
		if s.times != nil {
			return float64(s.times[i]) / 1e9
		}
		return float64(i)
	}

	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = "value"
	if s.times != nil {
		p.X.Label.Text = "time (UTC)"
		p.X.Tick.Marker = plot.TimeTicks{Format: "2006-01-02\n15:04", Time: func(t float64) time.Time {
			return time.Unix(int64(t), 0).UTC()
		}}
	} else {
		p.X.Label.Text = "row"
	}
	p.Legend.Top = true

	obs := make(plotter.XYs, 0, len(s.values))
	for i, v := range s.values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			obs = append(obs, plotter.XY{X: x(i), Y: v})
		}
	}
	series, err := plotter.NewLine(obs)
	if err != nil {
		return err
	}
	series.Color = color.RGBA{R: 70, G: 110, B: 180, A: 255}
	series.Width = vg.Points(0.8)
	p.Add(series)
	p.Legend.Add("observed", series)

	exp := make(plotter.XYs, 0, len(expected))
	for i, v := range expected {
		if !math.IsNaN(v) {
			exp = append(exp, plotter.XY{X: x(i), Y: v})
		}
	}
	if len(exp) > 0 {
		l, err := plotter.NewLine(exp)
		if err != nil {
			return err
		}
		l.Color = color.RGBA{R: 120, G: 120, B: 120, A: 255}
		l.Width = vg.Points(0.8)
		l.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
		p.Add(l)
		p.Legend.Add("expected (trend + seasonal)", l)
	}

	if len(anoms) > 0 {
		pts := make(plotter.XYs, len(anoms))
		for i, a := range anoms {
			pts[i] = plotter.XY{X: x(a.Index), Y: a.Value}
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: color.RGBA{R: 220, G: 30, B: 30, A: 255}, Radius: vg.Points(3.5), Shape: draw.RingGlyph{}}
		p.Add(sc)
		p.Legend.Add(fmt.Sprintf("anomalies (%d)", len(anoms)), sc)
	}
	p.Add(plotter.NewGrid())
	return p.Save(30*vg.Centimeter, 14*vg.Centimeter, path)
}
