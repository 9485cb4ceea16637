// Package detect implements Twitter's Seasonal Hybrid ESD (S-H-ESD) anomaly
// detection exactly as R's AnomalyDetection package computes it: the same
// anomalies, values and error texts.
//
// The pieces:
//   - STL, the seasonal-trend decomposition of Cleveland et al. (1990), in
//     the configuration R's stl(x, s.window = "periodic", robust = TRUE)
//     runs it, down to the floating-point operation order;
//   - the generalized ESD test of Rosner (1983) on the residual
//     value − seasonal − median, with an O(n log n) implementation that keeps
//     R's exact float64 medians and MADs;
//   - the S-H-ESD pipeline of Hochenbaum, Vallis and Kejariwal (2017):
//     windows (longterm), thresholds, only_last.
//
// References:
//   - R. B. Cleveland, W. S. Cleveland, J. E. McRae, I. Terpenning (1990),
//     "STL: A Seasonal-Trend Decomposition Procedure Based on Loess",
//     Journal of Official Statistics 6(1), 3–73.
//   - B. Rosner (1983), "Percentage Points for a Generalized ESD
//     Many-Outlier Procedure", Technometrics 25(2), 165–172.
//   - J. Hochenbaum, O. S. Vallis, A. Kejariwal (2017), "Automatic Anomaly
//     Detection in the Cloud Via Statistical Learning", arXiv:1704.07706.
//
// The package knows nothing of Kapacitor and never logs.
package detect
