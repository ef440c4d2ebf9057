//! Writes a still image as a short Y4M video (I420, BT.601 full range): the
//! file Chromium's fake camera plays (`--use-file-for-fake-video-capture`)
//! in the browser test, so the camera shows a face the detector finds.
//!
//! Usage: cargo run -p patchwise-image --example y4m -- IN.png OUT.y4m [FRAMES]

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, rest @ ..] = args.as_slice() else {
        return Err("usage: y4m IN.png OUT.y4m [FRAMES]".into());
    };
    let frames: usize = rest.first().map_or(Ok(30), |f| f.parse())?;
    let img = patchwise_image::decode(&std::fs::read(input)?)?;
    // 4:2:0 needs even sides: drop a last odd row or column.
    let (w, h) = (img.width & !1, img.height & !1);
    let px = |x: usize, y: usize| {
        let i = (y * img.width + x) * 3;
        let p = &img.pixels[i..i + 3];
        (p[0] as f64, p[1] as f64, p[2] as f64)
    };
    let clamp = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    let mut y_plane = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let (r, g, b) = px(x, y);
            y_plane.push(clamp(0.299 * r + 0.587 * g + 0.114 * b));
        }
    }
    let (mut u_plane, mut v_plane) = (Vec::new(), Vec::new());
    for y in (0..h).step_by(2) {
        for x in (0..w).step_by(2) {
            let quad = [px(x, y), px(x + 1, y), px(x, y + 1), px(x + 1, y + 1)];
            let (r, g, b) =
                quad.iter().fold((0.0, 0.0, 0.0), |a, p| (a.0 + p.0 / 4.0, a.1 + p.1 / 4.0, a.2 + p.2 / 4.0));
            u_plane.push(clamp(128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b));
            v_plane.push(clamp(128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b));
        }
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(output)?);
    writeln!(out, "YUV4MPEG2 W{w} H{h} F30:1 Ip A1:1")?;
    for _ in 0..frames {
        out.write_all(b"FRAME\n")?;
        out.write_all(&y_plane)?;
        out.write_all(&u_plane)?;
        out.write_all(&v_plane)?;
    }
    out.flush()?;
    Ok(())
}
