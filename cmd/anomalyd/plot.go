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
		p.X.Tick.Marker = timeTicks{}
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
		l.Color = color.RGBA{R: 240, G: 140, B: 0, A: 255}
		l.Width = vg.Points(1.2)
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

// timeTicks puts major ticks on round UTC times (midnight for spans of
// days, whole hours or minutes for shorter ones), about 4 to 12 of them.
type timeTicks struct{}

func (timeTicks) Ticks(min, max float64) []plot.Tick {
	steps := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour,
		6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 28 * 24 * time.Hour}
	span := time.Duration((max - min) * 1e9)
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= 12 {
			step = s
			break
		}
	}
	for span/step > 12 {
		step *= 2
	}
	layout := "2006-01-02"
	if step < 24*time.Hour {
		layout = "01-02 15:04"
	}
	sec := int64(step / time.Second)
	first := (int64(math.Ceil(min)) + sec - 1) / sec * sec
	var ticks []plot.Tick
	for t := first; float64(t) <= max; t += sec {
		ticks = append(ticks, plot.Tick{Value: float64(t), Label: time.Unix(t, 0).UTC().Format(layout)})
	}
	return ticks
}
