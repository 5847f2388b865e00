//! Offline evaluation of the detector against public benchmarks.
//!
//! Nothing here runs in the functions: it is library code for the
//! `stackwatch` command and for tests. It parses benchmark files from text
//! (the caller does the I/O), runs the detector in its generic mode over a
//! series, and scores the detections with the benchmark's published method.

pub mod nab;
