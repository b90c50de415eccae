//! Speed of the validators: phone parsing (international and national), media checks, and the
//! profile-image header walk.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use webex_connect_whatsapp::PhoneNumber;
use webex_connect_whatsapp::media::{self, MediaKind};
use webex_connect_whatsapp::profile::{DisplayName, ProfileImage};

fn phone(c: &mut Criterion) {
    // Warm the pattern cache so the figures show steady-state parsing.
    PhoneNumber::parse("+44 7400 123456").unwrap();
    PhoneNumber::parse_with_region("8 912 345-67-89", "RU").unwrap();
    c.bench_function("phone/parse_international_gb", |b| {
        b.iter(|| PhoneNumber::parse(black_box("+44 7400 123456")));
    });
    c.bench_function("phone/parse_international_us", |b| {
        b.iter(|| PhoneNumber::parse(black_box("+1 (650) 253-0000")));
    });
    c.bench_function("phone/parse_national_ru", |b| {
        b.iter(|| PhoneNumber::parse_with_region(black_box("8 912 345-67-89"), black_box("RU")));
    });
    c.bench_function("phone/reject_short_code", |b| {
        b.iter(|| PhoneNumber::parse(black_box("+44 118")));
    });
}

fn media_and_profile(c: &mut Criterion) {
    let ogg: mime::Mime = "audio/ogg; codecs=opus".parse().unwrap();
    c.bench_function("media/check_ogg", |b| {
        b.iter(|| media::check(MediaKind::Audio, black_box(&ogg), Some(1_000_000), false));
    });
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    jpeg.extend_from_slice(&[0; 14]);
    jpeg.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, 0x04, 0x00, 0x04, 0x00, 0x03]);
    jpeg.extend_from_slice(&[0; 9]);
    c.bench_function("profile/jpeg_header", |b| {
        b.iter(|| ProfileImage::from_jpeg_bytes(black_box(&jpeg)));
    });
    let name = DisplayName::new("Acme Bakery & Sons").unwrap();
    c.bench_function("profile/display_name_warnings", |b| {
        b.iter(|| black_box(&name).warnings());
    });
}

criterion_group!(benches, phone, media_and_profile);
criterion_main!(benches);
