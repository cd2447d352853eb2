use super::*;

/// A `Converser` whose endpoint these tests never reach.
fn converser() -> Converser {
    Converser::builder()
        .region("us-east-1")
        .endpoint_url("http://127.0.0.1:9")
        .credentials("AKIDMOCKEXAMPLE", "mock-secret-key", None)
        .build()
        .unwrap()
}

fn name(converser: &Converser, name: &str) -> Result<String, InferenceError> {
    BatchInference::new(converser)
        .job_name(name)
        .job_name_for_submit()
}

#[test]
fn a_job_name_is_1_to_63_letters_digits_dashes_pluses_or_dots() {
    let c = converser();
    let longest = format!(
        "a{}",
        "-+.9Z".repeat(13).chars().take(62).collect::<String>()
    );
    assert_eq!(longest.len(), 63);
    for ok in ["a", "7", "Z", "job-1.2+3", "9-", longest.as_str()] {
        assert_eq!(name(&c, ok).unwrap(), ok);
    }
    let too_long = "a".repeat(64);
    for bad in [
        "",
        too_long.as_str(),
        "job_1",
        "job 1",
        "job/1",
        "jöb",
        "-job",
        "+job",
        ".job",
    ] {
        let err = name(&c, bad).unwrap_err();
        assert!(
            matches!(&err, InferenceError::Config { message } if message.starts_with(&format!("job name {bad:?}: 1 to 63"))),
            "{bad:?}: {err}"
        );
    }
}

#[test]
fn the_default_job_name_is_valid_and_different_for_each_submit() {
    let c = converser();
    let jobs = BatchInference::new(&c);
    let first = jobs.job_name_for_submit().unwrap();
    let rest = first.strip_prefix("bedrock-converse-").unwrap();
    let (secs, nanos) = rest.split_once('-').unwrap();
    assert!(secs.parse::<u64>().unwrap() > 1_700_000_000, "{first}");
    assert_eq!(nanos.len(), 9, "{first}");
    assert!(nanos.bytes().all(|b| b.is_ascii_digit()), "{first}");
    std::thread::sleep(std::time::Duration::from_millis(2));
    assert_ne!(jobs.job_name_for_submit().unwrap(), first);
}
