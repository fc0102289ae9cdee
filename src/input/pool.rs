//! Waiting inside a rayon pool: a thread that blocks on a channel there must
//! keep running the pool's queued work, or with one worker nothing would.

use std::sync::mpsc::{self, TryRecvError};

/// Wait for a message (a recycled buffer, a decoded block), running queued
/// pool work meanwhile: with one thread, the waiting thread is the only one
/// that can run it.
pub(crate) fn receive_helping<T>(channel: &mpsc::Receiver<T>) -> T {
    loop {
        match channel.try_recv() {
            Ok(message) => return message,
            Err(TryRecvError::Empty) => {
                if rayon::yield_now() != Some(rayon::Yield::Executed) {
                    std::thread::yield_now();
                }
            }
            Err(TryRecvError::Disconnected) => unreachable!("the pipeline holds a sender"),
        }
    }
}
