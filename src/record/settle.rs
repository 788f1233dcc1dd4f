//! Knowing when every line the child has written so far has been read and stamped, so that
//! an LLM call is put into the phase whose marker the child printed before sending it.
//!
//! The proxy sees a request and the output reader sees a marker line independently, each a
//! little late; under load the reader can lag the proxy by milliseconds, and a call sent
//! right after `::runlens phase NEXT` would land in the previous phase. So the readers wait
//! for their pipe with `poll`, mark themselves busy *before* `read` takes the bytes out of
//! the pipe, and clear the mark once the lines are stamped. Output is settled when no reader
//! is busy and no pipe holds unread bytes (`FIONREAD`): there is no moment at which bytes are
//! neither in a pipe nor counted as busy. The proxy asks, after a request arrives (without
//! delaying it), and stamps the call's phase time at the first settled moment.

use std::os::fd::RawFd;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::capture::PhaseClock;

/// The read side of the current run's output pipes, and how many readers are busy.
#[derive(Debug, Default)]
pub struct OutputSettle {
    fds: Mutex<Vec<RawFd>>,
    busy: AtomicUsize,
}

impl OutputSettle {
    /// The pipes of a new run (replacing the last run's).
    pub fn watch(&self, fds: Vec<RawFd>) {
        if let Ok(mut watched) = self.fds.lock() {
            *watched = fds;
        }
    }

    /// A reader is done with its pipe (called before the pipe is closed, so a descriptor
    /// number reused later is never asked).
    pub fn forget(&self, fd: RawFd) {
        if let Ok(mut watched) = self.fds.lock() {
            watched.retain(|&f| f != fd);
        }
    }

    /// A reader is about to take bytes out of its pipe.
    pub fn begin(&self) {
        self.busy.fetch_add(1, Ordering::SeqCst);
    }

    /// That reader has stamped every line of those bytes.
    pub fn end(&self) {
        self.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PhaseClock for OutputSettle {
    fn settled(&self) -> bool {
        if self.busy.load(Ordering::SeqCst) > 0 {
            return false;
        }
        let Ok(fds) = self.fds.lock() else {
            return true;
        };
        fds.iter().all(|&fd| unread_bytes(fd) == 0) && self.busy.load(Ordering::SeqCst) == 0
    }
}

/// Bytes waiting in a pipe (0 when the descriptor cannot be asked).
fn unread_bytes(fd: RawFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer, which points at `n`.
    let rc = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    if rc == 0 { n.max(0) as usize } else { 0 }
}

/// Waits until `fd` is readable (or closed); false when polling fails.
pub fn wait_readable(fd: RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd, count 1.
        let rc = unsafe { libc::poll(&mut pfd, 1, -1) };
        if rc >= 0 {
            return true;
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;

    #[test]
    fn unread_bytes_in_a_pipe_keep_the_output_unsettled() {
        let (reader, mut writer) = std::io::pipe().expect("pipe");
        let settle = OutputSettle::default();
        settle.watch(vec![reader.as_raw_fd()]);
        assert!(settle.settled());
        writer.write_all(b"::runlens phase next\n").expect("write");
        assert!(!settle.settled());
        assert!(wait_readable(reader.as_raw_fd()));
        settle.begin();
        let mut buf = [0u8; 64];
        let n = std::io::Read::read(&mut &reader, &mut buf).expect("read");
        assert_eq!(n, 21);
        assert!(!settle.settled(), "busy until the lines are stamped");
        settle.end();
        assert!(settle.settled());
        settle.forget(reader.as_raw_fd());
        writer.write_all(b"x").expect("write");
        assert!(settle.settled(), "a finished run's pipes are not watched");
    }
}
