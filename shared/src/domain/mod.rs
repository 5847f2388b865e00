//! The pure core: no I/O, no clock, no environment, no async, no AWS types.
//! Time comes in as an argument; everything here is deterministic.

pub mod analysis;
pub mod calendar;
pub mod catalog;
pub mod detector;
pub mod event;
pub mod explain;
pub mod ids;
pub mod insight;
pub mod inventory;
pub mod metric;
pub mod notification;
pub mod proactive;
pub mod recommend;
pub mod resource;
pub mod stack;
pub mod time;
pub mod topology;
pub mod tuning;
pub mod window;
