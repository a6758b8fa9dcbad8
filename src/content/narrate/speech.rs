//! Offline speech: text read by `espeak-ng` one sentence at a time (so each ends with the same
//! pause), silence trimmed, and the result encoded by `lame` as a small mono MP3.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::domain::Lang;

/// espeak-ng's voice and speaking rate (words a minute; its default is 175) per language:
/// a little slower than the default, for listeners who are not used to reading.
fn voice(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::Zh => ("cmn", "160"),
        Lang::En => ("en", "150"),
    }
}

/// The pause between two sentences, in seconds.
const SENTENCE_PAUSE: f64 = 0.35;

/// Mono 16-bit audio.
#[derive(Clone, Debug, Default)]
pub struct Pcm {
    pub sample_rate: u32,
    pub samples: Vec<i16>,
}

impl Pcm {
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate.max(1))
    }

    fn append(&mut self, other: Pcm) {
        self.sample_rate = other.sample_rate;
        self.samples.extend(other.samples);
    }

    fn pause(&mut self, seconds: f64) {
        let count = (seconds * f64::from(self.sample_rate)) as usize;
        self.samples.extend(std::iter::repeat_n(0, count));
    }
}

/// Fails with a message naming what to install when a tool is missing.
pub fn check_tools() -> anyhow::Result<()> {
    for (tool, arg) in [("espeak-ng", "--version"), ("lame", "--version")] {
        let ok = Command::new(tool)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            bail!("`{tool}` is not installed (Debian: apt-get install -y espeak-ng lame)");
        }
    }
    Ok(())
}

/// Splits text after each sentence's closing punctuation (and at line ends), so that long
/// captions are read as several sentences with even pauses between them.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            push_sentence(&mut out, &mut current);
            continue;
        }
        current.push(c);
        let closes = "。！？；!?;".contains(c)
            || (c == '.' && chars.peek().is_none_or(|next| next.is_whitespace()));
        if closes {
            // Keep a closing quote or bracket with its sentence.
            while let Some(&next) = chars.peek() {
                if "”’」）)\"'".contains(next) {
                    current.push(next);
                    chars.next();
                } else {
                    break;
                }
            }
            push_sentence(&mut out, &mut current);
        }
    }
    push_sentence(&mut out, &mut current);
    out
}

fn push_sentence(out: &mut Vec<String>, current: &mut String) {
    let sentence = current.trim();
    if sentence.chars().any(char::is_alphanumeric) {
        out.push(sentence.to_owned());
    }
    current.clear();
}

/// Reads `text` aloud in `lang`: each sentence spoken, trimmed and followed by a pause.
pub fn speak(text: &str, lang: Lang) -> anyhow::Result<Pcm> {
    let mut pcm = Pcm::default();
    for (i, sentence) in sentences(text).iter().enumerate() {
        let spoken = trim_silence(espeak(sentence, lang)?);
        if i > 0 {
            pcm.pause(SENTENCE_PAUSE);
        }
        pcm.append(spoken);
    }
    if pcm.samples.is_empty() {
        bail!("there is nothing to read aloud");
    }
    Ok(pcm)
}

fn espeak(sentence: &str, lang: Lang) -> anyhow::Result<Pcm> {
    let (voice, rate) = voice(lang);
    let mut child = Command::new("espeak-ng")
        .args(["-v", voice, "-s", rate, "-b", "1", "--stdout", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("running espeak-ng")?;
    child
        .stdin
        .take()
        .context("espeak-ng's input")?
        .write_all(sentence.as_bytes())?;
    let mut wav = Vec::new();
    child
        .stdout
        .take()
        .context("espeak-ng's output")?
        .read_to_end(&mut wav)?;
    if !child.wait()?.success() {
        bail!("espeak-ng failed on: {sentence}");
    }
    parse_wav(&wav).with_context(|| format!("espeak-ng's audio for: {sentence}"))
}

/// The samples of a mono 16-bit WAV. Written to a pipe, espeak-ng cannot fill in the data
/// size, so the data runs to the end of the file.
fn parse_wav(wav: &[u8]) -> anyhow::Result<Pcm> {
    if wav.len() < 12 || &wav[0..4] != b"RIFF" || &wav[8..12] != b"WAVE" {
        bail!("not a WAV file");
    }
    let (mut at, mut sample_rate) = (12, None);
    while at + 8 <= wav.len() {
        let id = &wav[at..at + 4];
        let size = u32::from_le_bytes(wav[at + 4..at + 8].try_into()?) as usize;
        let body = at + 8;
        if id == b"fmt " && body + 16 <= wav.len() {
            let channels = u16::from_le_bytes(wav[body + 2..body + 4].try_into()?);
            let bits = u16::from_le_bytes(wav[body + 14..body + 16].try_into()?);
            if channels != 1 || bits != 16 {
                bail!("expected mono 16-bit audio, got {channels} channel(s) of {bits} bits");
            }
            sample_rate = Some(u32::from_le_bytes(wav[body + 4..body + 8].try_into()?));
        } else if id == b"data" {
            let samples = wav[body..]
                .chunks_exact(2)
                .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
                .collect();
            return Ok(Pcm {
                sample_rate: sample_rate.context("no format before the data")?,
                samples,
            });
        }
        at = body + size + (size & 1);
    }
    bail!("no audio data")
}

/// Drops near-silence at both ends, keeping a few milliseconds so words are not clipped.
fn trim_silence(mut pcm: Pcm) -> Pcm {
    const QUIET: i16 = 400;
    let margin = (pcm.sample_rate / 50) as usize;
    let loud = |s: &i16| s.unsigned_abs() > QUIET.unsigned_abs();
    let Some(first) = pcm.samples.iter().position(loud) else {
        pcm.samples.clear();
        return pcm;
    };
    let last = pcm.samples.iter().rposition(loud).unwrap_or(first);
    let end = (last + margin).min(pcm.samples.len() - 1);
    pcm.samples = pcm.samples[first.saturating_sub(margin)..=end].to_vec();
    pcm
}

/// An MP3 setting: constant bit rate, or an average for the smallest rungs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoding {
    pub kbps: u32,
    /// The sample rate lame resamples to, in kHz as lame writes it.
    pub sample_khz: &'static str,
    pub average: bool,
}

/// From best to smallest; a lesson gets the best that keeps it under its audio budget. The
/// smallest are averages at 11 kHz, which keep more of a voice than a constant 8 kbps at 8 kHz.
pub const LADDER: [Encoding; 8] = [
    Encoding::constant(32, "22.05"),
    Encoding::constant(24, "16"),
    Encoding::constant(16, "16"),
    Encoding::average(12),
    Encoding::average(10),
    Encoding::average(9),
    Encoding::average(8),
    Encoding::constant(8, "8"),
];

impl Encoding {
    const fn constant(kbps: u32, sample_khz: &'static str) -> Encoding {
        Encoding {
            kbps,
            sample_khz,
            average: false,
        }
    }

    const fn average(kbps: u32) -> Encoding {
        Encoding {
            kbps,
            sample_khz: "11.025",
            average: true,
        }
    }

    /// About how many bytes `seconds` of audio take. lame's averages come out about 15 % above
    /// the target for speech at these rates (measured on the sample content).
    pub fn estimate(self, seconds: f64) -> usize {
        let overshoot = if self.average { 1.16 } else { 1.01 };
        (seconds * f64::from(self.kbps) * 1000.0 / 8.0 * overshoot) as usize + 1024
    }
}

/// Encodes mono PCM as MP3 with lame, through pipes.
pub fn encode_mp3(pcm: &Pcm, encoding: Encoding) -> anyhow::Result<Vec<u8>> {
    let input_khz = format!("{}", f64::from(pcm.sample_rate) / 1000.0);
    let kbps = encoding.kbps.to_string();
    let mut args = vec![
        "--quiet",
        "-r",
        "-s",
        &input_khz,
        "--bitwidth",
        "16",
        "--signed",
        "--little-endian",
        "-m",
        "m",
        "--resample",
        encoding.sample_khz,
    ];
    args.extend(if encoding.average {
        ["--abr", kbps.as_str()]
    } else {
        ["-b", kbps.as_str()]
    });
    args.extend(["-", "-"]);
    let mut child = Command::new("lame")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running lame")?;
    let raw: Vec<u8> = pcm.samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut stdin = child.stdin.take().context("lame's input")?;
    // Written from another thread so that lame's output never fills its pipe while we wait.
    let writer = std::thread::spawn(move || stdin.write_all(&raw));
    let output = child.wait_with_output()?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("feeding lame panicked"))??;
    if !output.status.success() {
        bail!("lame failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(output.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_captions_are_split_into_sentences() {
        assert_eq!(
            sentences("晚上八点，小王回到宿舍。他想打视频！可是说什么呢？"),
            vec!["晚上八点，小王回到宿舍。", "他想打视频！", "可是说什么呢？"]
        );
        assert_eq!(
            sentences("“周日晚上八点，爸爸再打给你。”说到做到。"),
            vec!["“周日晚上八点，爸爸再打给你。”", "说到做到。"]
        );
        assert_eq!(
            sentences("8 p.m. Xiao Wang is back. He calls.\nNext line"),
            vec!["8 p.m.", "Xiao Wang is back.", "He calls.", "Next line"]
        );
        assert!(sentences(" 。 ").is_empty());
    }

    #[test]
    fn reads_a_streamed_wav() {
        let mut wav = b"RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00".to_vec();
        wav.extend([1, 0, 1, 0]);
        wav.extend(22050u32.to_le_bytes());
        wav.extend(44100u32.to_le_bytes());
        wav.extend([2, 0, 16, 0]);
        wav.extend(b"data\xff\xff\xff\xff");
        wav.extend([1, 0, 0xff, 0xff]);
        let pcm = parse_wav(&wav).unwrap();
        assert_eq!((pcm.sample_rate, pcm.samples), (22050, vec![1, -1]));
        assert!(parse_wav(b"not a wav").is_err());
    }

    #[test]
    fn trims_silence_at_both_ends() {
        let mut samples = vec![0i16; 1000];
        samples.extend([5000, -5000, 5000]);
        samples.extend(vec![3i16; 1000]);
        let trimmed = trim_silence(Pcm {
            sample_rate: 1000,
            samples,
        });
        assert_eq!(trimmed.samples.len(), 3 + 2 * 20);
    }
}
