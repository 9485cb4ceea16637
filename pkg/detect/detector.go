package detect

import "errors"

// Detector runs S-H-ESD and keeps its scratch buffers between calls, so that
// repeated calls on series of similar length do not allocate. A Detector is
// not safe for concurrent use; the zero value is ready to use.
type Detector struct{}

// Ts is R's AnomalyDetectionTs: times are Unix nanoseconds (ascending, as R
// assumes; R never sorts), values may hold NaN for R's NA. The anomalies are
// appended to dst in R's order.
func (d *Detector) Ts(dst []Anomaly, times []int64, values []float64, p Params) ([]Anomaly, error) {
	return dst, errors.New("not implemented yet")
}

// Vec is R's AnomalyDetectionVec.
func (d *Detector) Vec(dst []Anomaly, values []float64, p VecParams) ([]Anomaly, error) {
	return dst, errors.New("not implemented yet")
}
