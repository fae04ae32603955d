//! A pseudo-terminal for the real binary, from `openpty(3)` (nothing beyond libc): the tests
//! that drive the live screen and the benchmark of its idle cost start infertop on one.

#![allow(dead_code)] // each crate that includes it uses a different part of it

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the binary may take to start (libtorch loads) or to stop.
pub const PATIENCE: Duration = Duration::from_secs(90);

/// Both ends of a pseudo-terminal.
pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

impl Pty {
    pub fn open(cols: u16, rows: u16) -> Self {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: openpty writes two descriptors we then own; null name and termios are allowed.
        let rc = unsafe {
            libc::openpty(&raw mut master, &raw mut slave, std::ptr::null_mut(), std::ptr::null(), &raw const size)
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // Close-on-exec: children that other tests start meanwhile must not inherit the master,
        // or closing ours would not hang the terminal up.
        for fd in [master, slave] {
            // SAFETY: fcntl on descriptors we own.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        // SAFETY: both descriptors were just opened and are owned by nobody else.
        unsafe { Self { master: OwnedFd::from_raw_fd(master), slave: OwnedFd::from_raw_fd(slave) } }
    }

    /// The terminal settings as a program on the pty sees them.
    pub fn termios(&self) -> Termios {
        // SAFETY: termios is plain data; tcgetattr fills it.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: a valid descriptor and a termios we own.
        let rc = unsafe { libc::tcgetattr(self.slave.as_raw_fd(), &raw mut t) };
        assert_eq!(rc, 0, "tcgetattr: {}", std::io::Error::last_os_error());
        Termios { iflag: t.c_iflag, oflag: t.c_oflag, cflag: t.c_cflag, lflag: t.c_lflag, cc: t.c_cc.to_vec() }
    }

    pub fn slave_stdio(&self) -> Stdio {
        Stdio::from(self.slave.try_clone().expect("dup the pty"))
    }

    pub fn send(&self, bytes: &[u8]) {
        let mut master = File::from(self.master.try_clone().expect("dup the pty"));
        master.write_all(bytes).expect("write to the pty");
    }
}

/// The parts of termios a TUI changes and must put back.
#[derive(Debug, PartialEq, Eq)]
pub struct Termios {
    pub iflag: libc::tcflag_t,
    pub oflag: libc::tcflag_t,
    pub cflag: libc::tcflag_t,
    pub lflag: libc::tcflag_t,
    pub cc: Vec<libc::cc_t>,
}

impl Termios {
    pub fn raw(&self) -> bool {
        self.lflag & (libc::ICANON | libc::ECHO) == 0
    }
}

/// Collects everything the program writes to the pty, on a thread of its own so that the
/// program never blocks on a full pty buffer.
pub struct Output {
    bytes: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Output {
    pub fn collect(master: RawFd) -> Self {
        // SAFETY: fcntl on a descriptor we own: reads must not block past `stop`.
        unsafe { libc::fcntl(master, libc::F_SETFL, libc::fcntl(master, libc::F_GETFL) | libc::O_NONBLOCK) };
        let (bytes, stop) = (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicBool::new(false)));
        let (b, s) = (Arc::clone(&bytes), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !s.load(Ordering::SeqCst) {
                // SAFETY: reading into a buffer we own from a descriptor that outlives the thread.
                let n = unsafe { libc::read(master, buf.as_mut_ptr().cast(), buf.len()) };
                match usize::try_from(n) {
                    Ok(n) if n > 0 => b.lock().unwrap().extend_from_slice(&buf[..n]),
                    _ => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self { bytes, stop, thread: Some(thread) }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }

    /// Waits until the output contains `needle`.
    pub fn wait_for(&self, needle: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self.text().contains(needle) {
            if Instant::now() >= deadline {
                // The end of what was drawn, escapes shown, to tell a request that was lost
                // from a status line drawn in pieces.
                let text = self.text();
                let tail: String = text.chars().rev().take(1500).collect::<Vec<_>>().into_iter().rev().collect();
                panic!("'{needle}' never appeared; the output ended with: {tail:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Output {
    /// The screen as the terminal shows it now: the output replayed onto a `cols` x `rows`
    /// grid, one string per row. Only what the live screen emits is followed (cursor moves,
    /// clears, text; colours and modes ignored). A diffing renderer writes a changed line in
    /// pieces, skipping cells that did not change, so a needle can be on the screen without
    /// being anywhere in the byte stream.
    pub fn screen(&self, cols: usize, rows: usize) -> Vec<String> {
        let text = self.text();
        let mut grid = vec![vec![' '; cols]; rows];
        let (mut row, mut col) = (0_usize, 0_usize);
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\u{1b}' if chars.peek() == Some(&'[') => {
                    chars.next();
                    let mut params = String::new();
                    let mut last = ' ';
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            last = c;
                            break;
                        }
                        params.push(c);
                    }
                    let numbers: Vec<usize> = params.split(';').map(|n| n.parse().unwrap_or(1)).collect();
                    match last {
                        'H' | 'f' => {
                            row = numbers.first().copied().unwrap_or(1).max(1) - 1;
                            col = numbers.get(1).copied().unwrap_or(1).max(1) - 1;
                        }
                        'J' if params == "2" => grid.iter_mut().for_each(|r| r.fill(' ')),
                        'K' => {
                            if let Some(r) = grid.get_mut(row) {
                                r.iter_mut().skip(col).for_each(|c| *c = ' ');
                            }
                        }
                        _ => {}
                    }
                }
                // Other escapes (a character set, a keypad mode): the escape and its one byte.
                '\u{1b}' => {
                    chars.next();
                }
                '\r' => col = 0,
                '\n' => row += 1,
                c if c.is_control() => {}
                c => {
                    if let Some(cell) = grid.get_mut(row).and_then(|r| r.get_mut(col)) {
                        *cell = c;
                    }
                    col += 1;
                }
            }
        }
        grid.into_iter().map(|r| r.into_iter().collect()).collect()
    }

    /// Waits until the screen (`cols` x `rows`, as the pty was opened) shows `needle` on one row.
    pub fn wait_for_on_screen(&self, needle: &str, cols: usize, rows: usize) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen(cols, rows);
            if screen.iter().any(|row| row.contains(needle)) {
                return;
            }
            assert!(Instant::now() < deadline, "'{needle}' never shown; the screen:\n{}", screen.join("\n"));
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The running binary; killed if a test fails before it exits.
pub struct Running {
    pub child: Child,
}

impl Running {
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for infertop") {
                return status;
            }
            assert!(Instant::now() < deadline, "infertop did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(i32::try_from(self.child.id()).unwrap(), sig) };
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts infertop on the pty as the session leader with the pty as its controlling terminal,
/// like a shell would; stderr is piped so that error lines can be read apart from the screen.
pub fn start(pty: &Pty, args: &[&str]) -> Running {
    let mut command = super::binary::infertop();
    command
        .args(args)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .stdin(pty.slave_stdio())
        .stdout(pty.slave_stdio())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            libc::ioctl(0, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    Running { child: command.spawn().expect("start infertop") }
}
