//! gzip members, read to RFC 1952 with no limit on the header's fields.
//!
//! flate2's gzip reader refuses a header whose name, comment or extra field is
//! longer than 64 KiB; `gzip -dc`, pigz and Python read such files, and the
//! RFC sets no limit. So the header and trailer are parsed here and only the
//! deflate stream in between goes to flate2's raw inflater (zlib-rs), which is
//! what flate2's own reader does inside. Every member is read, and anything
//! after the last one that is not another member is an error.

use std::io::{self, BufRead, Read};

use flate2::{Crc, Decompress, FlushDecompress, Status};

const ID: [u8; 2] = [0x1f, 0x8b];
const DEFLATE: u8 = 8;
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const RESERVED: u8 = 0xe0;

enum State {
    /// Before a member's header (or at the end, if the input ends here).
    Header,
    /// Inside a member's deflate stream.
    Body,
    Done,
}

/// The concatenated text of every gzip member in `src`.
pub struct GzipMembers<R> {
    src: R,
    state: State,
    inflate: Decompress,
    /// CRC-32 and length of the current member's text.
    crc: Crc,
    members: u64,
}

impl<R: BufRead> GzipMembers<R> {
    pub fn new(src: R) -> Self {
        GzipMembers {
            src,
            state: State::Header,
            inflate: Decompress::new(false),
            crc: Crc::new(),
            members: 0,
        }
    }

    /// Parse one member's header, leaving `src` at its deflate stream.
    fn read_header(&mut self) -> io::Result<()> {
        let mut header = HeaderReader {
            src: &mut self.src,
            crc: Crc::new(),
        };
        let mut fixed = [0u8; 10];
        header.read_exact(&mut fixed)?;
        if fixed[..2] != ID {
            return Err(invalid(if self.members == 0 {
                "not a gzip header"
            } else {
                "bytes after the last gzip member are not another member"
            }));
        }
        if fixed[2] != DEFLATE {
            return Err(invalid(
                "unknown compression method (gzip has only deflate)",
            ));
        }
        let flags = fixed[3];
        if flags & RESERVED != 0 {
            return Err(invalid("reserved gzip header flags are set"));
        }
        if flags & FEXTRA != 0 {
            let mut len = [0u8; 2];
            header.read_exact(&mut len)?;
            header.skip(u16::from_le_bytes(len).into())?;
        }
        if flags & FNAME != 0 {
            header.skip_zero_terminated()?;
        }
        if flags & FCOMMENT != 0 {
            header.skip_zero_terminated()?;
        }
        if flags & FHCRC != 0 {
            let expected = header.crc.sum() as u16;
            let mut stored = [0u8; 2];
            header.read_exact(&mut stored)?;
            if u16::from_le_bytes(stored) != expected {
                return Err(invalid("gzip header checksum mismatch"));
            }
        }
        Ok(())
    }

    /// Check the member's trailer against the text it produced.
    fn read_trailer(&mut self) -> io::Result<()> {
        let mut trailer = [0u8; 8];
        self.src.read_exact(&mut trailer)?;
        let [crc @ .., _, _, _, _] = trailer;
        let [_, _, _, _, size @ ..] = trailer;
        if u32::from_le_bytes(crc) != self.crc.sum() {
            return Err(invalid("CRC-32 mismatch: the text is corrupt"));
        }
        if u32::from_le_bytes(size) != self.crc.amount() {
            return Err(invalid("length mismatch: the text is corrupt"));
        }
        Ok(())
    }

    /// Inflate into `out`; `Ok(0)` when the member ended without more text.
    fn inflate(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let input = self.src.fill_buf()?;
            let at_end = input.is_empty();
            let (before_in, before_out) = (self.inflate.total_in(), self.inflate.total_out());
            let status = self
                .inflate
                .decompress(input, out, FlushDecompress::None)
                .map_err(|e| invalid(&format!("invalid deflate stream: {e}")))?;
            let used = (self.inflate.total_in() - before_in) as usize;
            let made = (self.inflate.total_out() - before_out) as usize;
            self.src.consume(used);
            self.crc.update(&out[..made]);
            if status == Status::StreamEnd {
                self.read_trailer()?;
                self.members += 1;
                self.state = State::Header;
                return Ok(made);
            }
            if made > 0 {
                return Ok(made);
            }
            if at_end {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if used == 0 {
                return Err(invalid("the deflate stream makes no progress"));
            }
        }
    }
}

impl<R: BufRead> Read for GzipMembers<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match self.state {
                State::Done => return Ok(0),
                State::Header => {
                    if self.members > 0 && self.src.fill_buf()?.is_empty() {
                        self.state = State::Done;
                        return Ok(0);
                    }
                    self.read_header()?;
                    self.inflate.reset(false);
                    self.crc.reset();
                    self.state = State::Body;
                }
                State::Body => match self.inflate(out)? {
                    // A member with no text (or whose text ended on the last
                    // read): go on to the next header.
                    0 => continue,
                    n => return Ok(n),
                },
            }
        }
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// Reads header bytes, keeping the CRC that FHCRC checks.
struct HeaderReader<'a, R> {
    src: &'a mut R,
    crc: Crc,
}

impl<R: BufRead> HeaderReader<'_, R> {
    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.src.read_exact(buf)?;
        self.crc.update(buf);
        Ok(())
    }

    /// Skip `len` bytes (the extra field), however the buffer splits them.
    fn skip(&mut self, mut len: usize) -> io::Result<()> {
        while len > 0 {
            let buf = self.src.fill_buf()?;
            if buf.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let n = buf.len().min(len);
            self.crc.update(&buf[..n]);
            self.src.consume(n);
            len -= n;
        }
        Ok(())
    }

    /// Skip a zero-terminated field (name, comment) of any length.
    fn skip_zero_terminated(&mut self) -> io::Result<()> {
        loop {
            let buf = self.src.fill_buf()?;
            if buf.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            match memchr::memchr(0, buf) {
                Some(end) => {
                    self.crc.update(&buf[..=end]);
                    self.src.consume(end + 1);
                    return Ok(());
                }
                None => {
                    let n = buf.len();
                    self.crc.update(buf);
                    self.src.consume(n);
                }
            }
        }
    }
}
