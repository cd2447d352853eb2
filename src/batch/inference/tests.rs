use super::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/BedrockBatch";

fn job() -> JobRequest {
    JobRequest::new("amazon.nova-lite-v1:0", "s3://bucket/batches", ROLE)
}

fn name(name: &str) -> Result<String, InferenceError> {
    job().job_name(name).name_for_submit()
}

fn records(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| Record::new(format!("r{i:03}"), serde_json::json!({"messages": []})))
        .collect()
}

fn config_message(job: &JobRequest) -> String {
    match job.plan(&records(100)) {
        Err(InferenceError::Config { message }) => message,
        Err(other) => panic!("not a Config error: {other}"),
        Ok(_) => panic!("planned"),
    }
}

#[test]
fn a_job_name_is_1_to_63_letters_digits_dashes_pluses_or_dots() {
    let longest = format!(
        "a{}",
        "-+.9Z".repeat(13).chars().take(62).collect::<String>()
    );
    assert_eq!(longest.len(), 63);
    for ok in ["a", "7", "Z", "job-1.2+3", "9-", longest.as_str()] {
        assert_eq!(name(ok).unwrap(), ok);
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
        let err = name(bad).unwrap_err();
        assert!(
            matches!(&err, InferenceError::Config { message } if message.starts_with(&format!("job name {bad:?}: 1 to 63"))),
            "{bad:?}: {err}"
        );
    }
}

#[test]
fn the_default_job_name_is_valid_and_different_for_each_submit() {
    let jobs = job();
    let first = jobs.name_for_submit().unwrap();
    let rest = first.strip_prefix("bedrock-converse-").unwrap();
    let (secs, nanos) = rest.split_once('-').unwrap();
    assert!(secs.parse::<u64>().unwrap() > 1_700_000_000, "{first}");
    assert_eq!(nanos.len(), 9, "{first}");
    assert!(nanos.bytes().all(|b| b.is_ascii_digit()), "{first}");
    std::thread::sleep(std::time::Duration::from_millis(2));
    assert_ne!(jobs.name_for_submit().unwrap(), first);
}

#[test]
fn the_role_must_be_an_iam_role_arn() {
    for ok in [
        ROLE,
        "arn:aws-us-gov:iam::123456789012:role/path/Batch",
        "arn:aws:iam:::role/Batch",
    ] {
        let planned = JobRequest::new("m", "s3://b/p", ok).plan(&records(100));
        assert!(planned.is_ok(), "{ok}: {:?}", planned.err());
    }
    for bad in [
        "",
        "BedrockBatch",
        "arn:aws:iam::123456789012:user/BedrockBatch",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:s3::123456789012:role/BedrockBatch",
        "arn:aws:iam:us-east-1:123456789012:role/BedrockBatch",
        "arn:aws:iam::1234:role/BedrockBatch",
        "arn:aws:iam::12345678901x:role/BedrockBatch",
        "arn:other:iam::123456789012:role/BedrockBatch",
        "aws:aws:iam::123456789012:role/BedrockBatch",
    ] {
        let message = config_message(&JobRequest::new("m", "s3://b/p", bad));
        assert!(
            message.starts_with(&format!("role {bad:?} is not")),
            "{bad}: {message}"
        );
    }
}

#[test]
fn an_empty_model_id_is_refused() {
    for empty in ["", "  "] {
        let message = config_message(&JobRequest::new(empty, "s3://b/p", ROLE));
        assert_eq!(message, "the model id is empty");
    }
}

#[test]
fn a_plan_names_the_job_and_lays_out_its_files_under_the_location() {
    assert_eq!(job().model_id(), "amazon.nova-lite-v1:0");
    let (new, objects) = job()
        .job_name("n1")
        .timeout_hours(48)
        .plan(&records(100))
        .unwrap();
    assert_eq!(
        (
            new.name.as_str(),
            new.model_id.as_str(),
            new.role_arn.as_str()
        ),
        ("n1", "amazon.nova-lite-v1:0", ROLE)
    );
    assert_eq!(new.input_uri, "s3://bucket/batches/n1/input.jsonl");
    assert_eq!(new.output_uri, "s3://bucket/batches/n1/output/");
    assert_eq!(new.timeout_hours, Some(48));
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].0.as_str(), new.input_uri);
    assert_eq!(objects[0].1.iter().filter(|&&b| b == b'\n').count(), 100);
}
