//! Each provider's wire format, streamed and not, with tool calls, usage and errors, fed in
//! awkward pieces; figures checked against what the fixtures say by hand.

use super::*;

const SSE: &str = "text/event-stream";
const JSON: &str = "application/json";

/// Feeds `chunks` (text, milliseconds after sending) and finishes at `total_ms`.
fn observe(
    provider: Provider,
    path: &str,
    request: &str,
    status: u16,
    content_type: &str,
    chunks: &[(&str, f64)],
    total_ms: f64,
) -> (LlmCallRow, Vec<ToolCallRow>) {
    let mut observer = CallObserver::new(provider, path, request.as_bytes()).expect("an LLM call");
    observer.on_response(status, Some(content_type));
    for (text, at) in chunks {
        // Split every chunk in two at an awkward place (inside a line, inside UTF-8).
        let bytes = text.as_bytes();
        let mid = bytes.len() / 2;
        observer.on_bytes(&bytes[..mid], *at);
        observer.on_bytes(&bytes[mid..], *at);
    }
    let identity = CallIdentity {
        call_id: "call-1".into(),
        start_ts: Timestamp(1_700_000_000_000_000),
        source: "proxy",
        run_id: None,
        phase: None,
    };
    observer.finish(identity, total_ms, None, &Redactor::from_vars([]))
}

#[test]
fn paths_name_their_api_and_queries_are_dropped() {
    assert_eq!(Api::of_path("/v1/chat/completions"), Some(Api::OpenAiChat));
    assert_eq!(
        Api::of_path("/v1beta/openai/chat/completions"),
        Some(Api::OpenAiChat)
    );
    assert_eq!(Api::of_path("/v1/responses"), Some(Api::OpenAiResponses));
    assert_eq!(Api::of_path("/v1/messages"), Some(Api::AnthropicMessages));
    assert_eq!(Api::of_path("/api/chat"), Some(Api::OllamaChat));
    assert_eq!(
        Api::of_path("/v1beta/models/gemini-2.5-flash:streamGenerateContent"),
        Some(Api::GeminiGenerate)
    );
    assert_eq!(Api::of_path("/v1/models"), None);
    let observer = CallObserver::new(
        Provider::Gemini,
        "/v1beta/models/gemini-2.5-flash:generateContent?key=AIzaSECRET",
        b"{}",
    )
    .expect("call");
    assert_eq!(
        observer.request().model.as_deref(),
        Some("gemini-2.5-flash")
    );
    assert_eq!(
        observer.endpoint,
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
}

#[test]
fn openai_chat_stream_with_usage_and_a_tool_call() {
    let request = r#"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"tools":[{"type":"function","function":{"name":"read_file"}}]}"#;
    let chunks = [
        // The role-only first delta is not content: TTFT is the first text.
        (r#"data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#.to_string() + "\n\n", 40.0),
        (r#"data: {"id":"c","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"Let me"}}]}"#.to_string() + "\n\n", 100.0),
        (r#"data: {"id":"c","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"read_file","arguments":""}}]}}]}"#.to_string() + "\n\n", 130.0),
        (r#"data: {"id":"c","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]}}]}"#.to_string() + "\n\n", 150.0),
        (r#"data: {"id":"c","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"a.txt\"}"}}]}}]}"#.to_string() + "\n\n", 190.0),
        (r#"data: {"id":"c","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#.to_string() + "\n\n", 200.0),
        (r#"data: {"id":"c","model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":21,"total_tokens":141,"prompt_tokens_details":{"cached_tokens":100}}}"#.to_string() + "\n\n", 210.0),
        ("data: [DONE]\n\n".to_string(), 211.0),
    ];
    let chunks: Vec<(&str, f64)> = chunks.iter().map(|(t, at)| (t.as_str(), *at)).collect();
    let (row, tools) = observe(
        Provider::OpenAi,
        "/v1/chat/completions",
        request,
        200,
        SSE,
        &chunks,
        215.0,
    );
    assert_eq!(row.streamed, Some(true));
    assert_eq!(row.request_model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(
        row.response_model.as_deref(),
        Some("gpt-4o-mini-2024-07-18")
    );
    assert_eq!(row.ttft_ms, Some(100.0));
    assert_eq!(row.chunk_gaps_ms, Some(vec![30.0, 20.0, 40.0]));
    assert_eq!(row.total_ms, Some(215.0));
    // 120 prompt tokens of which 100 cached: 20 uncached, 100 read from the cache.
    assert_eq!(row.input_tokens, Some(20));
    assert_eq!(row.cache_read_input_tokens, Some(100));
    assert_eq!(row.output_tokens, Some(21));
    assert_eq!(row.usage_source.as_deref(), Some("reported"));
    // (215 − 100) / (21 − 1) = 5.75 ms per token, 173.9 tokens/s.
    assert_eq!(row.tpot_ms, Some(5.75));
    assert!((row.output_tokens_per_s.expect("rate") - 1000.0 / 5.75).abs() < 1e-9);
    assert_eq!(row.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(row.tool_call_count, Some(1));
    assert_eq!(row.error_kind, None);
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0].tool_call_id, "call_abc");
    assert_eq!(tools[0].tool_name, "read_file");
    assert_eq!(
        tools[0].arguments_bytes,
        Some(r#"{"path":"a.txt"}"#.len() as i64)
    );
    assert_eq!(tools[0].call_id.as_deref(), Some("call-1"));
}

#[test]
fn openai_stream_without_include_usage_has_missing_tokens_not_zero() {
    let chunks = [
        (
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n",
            50.0,
        ),
        (
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
            60.0,
        ),
    ];
    let (row, _) = observe(
        Provider::OpenAi,
        "/v1/chat/completions",
        r#"{"model":"m","stream":true}"#,
        200,
        SSE,
        &chunks,
        61.0,
    );
    assert_eq!(row.output_tokens, None);
    assert_eq!(row.input_tokens, None);
    assert_eq!(row.usage_source.as_deref(), Some("missing"));
    assert_eq!(row.ttft_ms, Some(50.0));
    assert_eq!(row.error_kind, None);
}

#[test]
fn openai_non_streamed_reply() {
    let body = r#"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4-turbo-2024-04-09","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"search","arguments":"{\"q\":\"rust\"}"}},{"id":"call_2","type":"function","function":{"name":"open","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":50,"completion_tokens":30,"total_tokens":80,"completion_tokens_details":{"reasoning_tokens":10}}}"#;
    let (row, tools) = observe(
        Provider::OpenAi,
        "/v1/chat/completions",
        r#"{"model":"gpt-4-turbo"}"#,
        200,
        JSON,
        &[(body, 800.0)],
        805.0,
    );
    assert_eq!(row.streamed, Some(false));
    assert_eq!(row.ttft_ms, Some(800.0));
    assert_eq!(row.input_tokens, Some(50));
    assert_eq!(row.output_tokens, Some(30));
    assert_eq!(row.reasoning_tokens, Some(10));
    assert_eq!(row.chunk_gaps_ms, None);
    assert_eq!(row.tpot_ms, None);
    // 30 tokens in 805 ms.
    assert!((row.output_tokens_per_s.expect("rate") - 30.0 / 0.805).abs() < 1e-9);
    assert_eq!(
        tools
            .iter()
            .map(|t| t.tool_name.as_str())
            .collect::<Vec<_>>(),
        ["search", "open"]
    );
    assert_eq!(tools[0].arguments_bytes, Some(12));
}

#[test]
fn an_http_error_keeps_the_providers_message_without_the_key() {
    let body = r#"{"error":{"message":"Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwx1234. You can find your API key at https://platform.openai.com.","type":"invalid_request_error","code":"invalid_api_key"}}"#;
    let (row, tools) = observe(
        Provider::OpenAi,
        "/v1/chat/completions",
        r#"{"model":"gpt-4o"}"#,
        401,
        JSON,
        &[(body, 30.0)],
        31.0,
    );
    assert_eq!(row.http_status, Some(401));
    assert_eq!(row.error_kind.as_deref(), Some("http"));
    let error = row.error.expect("error text");
    assert!(
        error.starts_with("HTTP 401: invalid_request_error: Incorrect API key"),
        "{error}"
    );
    assert!(!error.contains("abcdefghijklmnop"), "{error}");
    assert_eq!(row.tool_call_count, None);
    assert!(tools.is_empty());
    assert_eq!(row.usage_source.as_deref(), Some("missing"));
}

#[test]
fn a_stream_cut_before_done_is_an_error_with_what_arrived() {
    let chunks = [
        (
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n",
            20.0,
        ),
        (
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\ndata: {\"choi",
            35.0,
        ),
    ];
    let (row, _) = observe(
        Provider::OpenAi,
        "/v1/chat/completions",
        r#"{"model":"m","stream":true}"#,
        200,
        SSE,
        &chunks,
        40.0,
    );
    assert_eq!(row.error_kind.as_deref(), Some("stream_cut"));
    assert_eq!(row.ttft_ms, Some(20.0));
    assert_eq!(row.chunk_gaps_ms, Some(vec![15.0]));
}

#[test]
fn openai_responses_stream() {
    let events = [
        (
            "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"model\":\"gpt-5\",\"status\":\"in_progress\"}}\n\n",
            10.0,
        ),
        (
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"Sure\"}\n\n",
            300.0,
        ),
        (
            "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"output_index\":1,\"item\":{\"type\":\"function_call\",\"call_id\":\"call_9\",\"name\":\"get_weather\",\"arguments\":\"\"}}\n\n",
            320.0,
        ),
        (
            "event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"output_index\":1,\"delta\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}\n\n",
            340.0,
        ),
        (
            "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"model\":\"gpt-5-2025-08-07\",\"status\":\"completed\",\"usage\":{\"input_tokens\":400,\"input_tokens_details\":{\"cached_tokens\":300},\"output_tokens\":60,\"output_tokens_details\":{\"reasoning_tokens\":40}}}}\n\n",
            360.0,
        ),
    ];
    let (row, tools) = observe(
        Provider::OpenAi,
        "/v1/responses",
        r#"{"model":"gpt-5","stream":true}"#,
        200,
        SSE,
        &events,
        361.0,
    );
    assert_eq!(row.error_kind, None);
    assert_eq!(row.response_model.as_deref(), Some("gpt-5-2025-08-07"));
    assert_eq!(row.ttft_ms, Some(300.0));
    assert_eq!(
        (row.input_tokens, row.cache_read_input_tokens),
        (Some(100), Some(300))
    );
    assert_eq!(
        (row.output_tokens, row.reasoning_tokens),
        (Some(60), Some(40))
    );
    assert_eq!(row.finish_reason.as_deref(), Some("completed"));
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0].tool_call_id, "call_9");
    assert_eq!(tools[0].arguments_bytes, Some(15));
}

#[test]
fn anthropic_stream_with_cumulative_usage_and_tool_use() {
    let events = [
        (
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-sonnet-4-5-20250929\",\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":1000,\"cache_creation_input_tokens\":200,\"output_tokens\":1}}}\n\n",
            5.0,
        ),
        ("event: ping\ndata: {\"type\":\"ping\"}\n\n", 6.0),
        (
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            7.0,
        ),
        (
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"I'll check\"}}\n\n",
            250.0,
        ),
        (
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01\",\"name\":\"Bash\",\"input\":{}}}\n\n",
            260.0,
        ),
        (
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"command\\\": \"}}\n\n",
            280.0,
        ),
        (
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"ls\\\"}\"}}\n\n",
            300.0,
        ),
        // Cumulative: 15 then 42 output tokens: the row says 42, not 57.
        (
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":null},\"usage\":{\"output_tokens\":15}}\n\n",
            310.0,
        ),
        (
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":42}}\n\n",
            320.0,
        ),
        (
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
            321.0,
        ),
    ];
    let (row, tools) = observe(
        Provider::Anthropic,
        "/v1/messages",
        r#"{"model":"claude-sonnet-4-5","stream":true}"#,
        200,
        SSE,
        &events,
        322.0,
    );
    assert_eq!(row.error_kind, None);
    assert_eq!(row.ttft_ms, Some(250.0));
    assert_eq!(row.chunk_gaps_ms, Some(vec![10.0, 20.0, 20.0]));
    assert_eq!(row.input_tokens, Some(25));
    assert_eq!(row.cache_read_input_tokens, Some(1000));
    assert_eq!(row.cache_creation_input_tokens, Some(200));
    assert_eq!(row.output_tokens, Some(42));
    assert_eq!(row.finish_reason.as_deref(), Some("tool_use"));
    assert_eq!(tools.len(), 1);
    assert_eq!(
        (tools[0].tool_call_id.as_str(), tools[0].tool_name.as_str()),
        ("toolu_01", "Bash")
    );
    assert_eq!(
        tools[0].arguments_bytes,
        Some(r#"{"command": "ls"}"#.len() as i64)
    );
}

#[test]
fn anthropic_error_event_mid_stream_and_a_whole_message() {
    let events = [
        (
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-3-5-sonnet-20241022\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n",
            5.0,
        ),
        (
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
            9.0,
        ),
    ];
    let (row, _) = observe(
        Provider::Anthropic,
        "/v1/messages",
        r#"{"model":"x","stream":true}"#,
        200,
        SSE,
        &events,
        10.0,
    );
    assert_eq!(row.error_kind.as_deref(), Some("provider_error"));
    assert_eq!(row.error.as_deref(), Some("overloaded_error: Overloaded"));

    let body = r#"{"id":"msg_2","type":"message","role":"assistant","model":"claude-3-5-sonnet-20241022","content":[{"type":"text","text":"ok"},{"type":"tool_use","id":"toolu_2","name":"Read","input":{"file":"x"}}],"stop_reason":"tool_use","usage":{"input_tokens":12,"output_tokens":7}}"#;
    let (row, tools) = observe(
        Provider::Anthropic,
        "/v1/messages",
        r#"{"model":"x"}"#,
        200,
        JSON,
        &[(body, 90.0)],
        91.0,
    );
    assert_eq!((row.input_tokens, row.output_tokens), (Some(12), Some(7)));
    assert_eq!(row.tool_call_count, Some(1));
    assert_eq!(
        tools[0].arguments_bytes,
        Some(r#"{"file":"x"}"#.len() as i64)
    );
}

#[test]
fn ollama_ndjson_stream_with_nanosecond_durations() {
    let lines = [
        (
            "{\"model\":\"llama3.2:3b\",\"message\":{\"role\":\"assistant\",\"content\":\"The\"},\"done\":false}\n",
            400.0,
        ),
        (
            "{\"model\":\"llama3.2:3b\",\"message\":{\"role\":\"assistant\",\"content\":\" sky\"},\"done\":false}\n{\"model\":\"llama3.2:3b\",\"message\":{\"role\":\"assistant\",\"content\":\" is\"},\"done\":false}\n",
            430.0,
        ),
        (
            "{\"model\":\"llama3.2:3b\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"total_duration\":1500000000,\"load_duration\":900000000,\"prompt_eval_count\":26,\"prompt_eval_duration\":120000000,\"eval_count\":3,\"eval_duration\":60000000}\n",
            450.0,
        ),
    ];
    let (row, tools) = observe(
        Provider::Ollama,
        "/api/chat",
        r#"{"model":"llama3.2:3b","messages":[]}"#,
        200,
        "application/x-ndjson",
        &lines,
        451.0,
    );
    assert_eq!(row.streamed, Some(true));
    assert_eq!(row.ttft_ms, Some(400.0));
    // Two objects in one chunk: the second gap is 0.
    assert_eq!(row.chunk_gaps_ms, Some(vec![30.0, 0.0]));
    assert_eq!((row.input_tokens, row.output_tokens), (Some(26), Some(3)));
    assert_eq!(row.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        row.labels.0.get("ollama_eval_ms").map(String::as_str),
        Some("60.000")
    );
    assert_eq!(
        row.labels.0.get("ollama_load_ms").map(String::as_str),
        Some("900.000")
    );
    assert_eq!(row.tool_call_count, Some(0));
    assert!(tools.is_empty());
}

#[test]
fn ollama_tool_calls_and_a_non_streamed_reply() {
    let body = r#"{"model":"qwen3:8b","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_time","arguments":{"tz":"UTC"}}}]},"done":true,"done_reason":"stop","prompt_eval_count":80,"eval_count":12}"#;
    let (row, tools) = observe(
        Provider::Ollama,
        "/api/chat",
        r#"{"model":"qwen3:8b","stream":false}"#,
        200,
        JSON,
        &[(body, 700.0)],
        701.0,
    );
    assert_eq!(row.streamed, Some(false));
    assert_eq!((row.input_tokens, row.output_tokens), (Some(80), Some(12)));
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0].tool_name, "get_time");
    assert_eq!(tools[0].tool_call_id, "call-1-tool0");
    assert_eq!(
        tools[0].arguments_bytes,
        Some(r#"{"tz":"UTC"}"#.len() as i64)
    );
}

#[test]
fn gemini_streamed_array_and_sse() {
    let array = [
        (
            "[{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hello\"}],\"role\":\"model\"}}],\"usageMetadata\":{\"promptTokenCount\":9,\"candidatesTokenCount\":1},\"modelVersion\":\"gemini-2.5-flash\"}\n",
            500.0,
        ),
        (
            ",\r\n{\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"lookup\",\"args\":{\"id\":7}}}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":9,\"candidatesTokenCount\":8,\"thoughtsTokenCount\":4}}\n]",
            560.0,
        ),
    ];
    let path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent";
    let (row, tools) = observe(
        Provider::Gemini,
        path,
        r#"{"contents":[]}"#,
        200,
        JSON,
        &array,
        561.0,
    );
    assert_eq!(row.streamed, Some(true));
    assert_eq!(row.ttft_ms, Some(500.0));
    assert_eq!(row.input_tokens, Some(9));
    // candidates 8 + thoughts 4; the last report wins.
    assert_eq!(
        (row.output_tokens, row.reasoning_tokens),
        (Some(12), Some(4))
    );
    assert_eq!(row.finish_reason.as_deref(), Some("STOP"));
    assert_eq!(tools[0].tool_name, "lookup");
    assert_eq!(row.error_kind, None);

    let sse = [(
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":1}}\r\n\r\n",
        70.0,
    )];
    let (row, _) = observe(
        Provider::Gemini,
        &format!("{path}?alt=sse"),
        "{}",
        200,
        SSE,
        &sse,
        71.0,
    );
    assert_eq!((row.input_tokens, row.output_tokens), (Some(3), Some(1)));
    assert_eq!(row.endpoint.as_deref(), Some(path));
}

#[test]
fn garbage_from_the_upstream_is_a_bad_response() {
    let (row, _) = observe(
        Provider::OpenAi,
        "/v1/chat/completions",
        r#"{"model":"m"}"#,
        200,
        "text/html",
        &[("<html>502 Bad Gateway</html>", 3.0)],
        4.0,
    );
    assert_eq!(row.error_kind.as_deref(), Some("bad_response"));
    assert_eq!(row.tool_call_count, None);
}

#[test]
fn a_malformed_request_is_noticed_and_its_rejection_recorded() {
    let mut observer =
        CallObserver::new(Provider::OpenAi, "/v1/chat/completions", b"{not json").expect("call");
    assert!(observer.request().malformed);
    observer.on_response(400, Some(JSON));
    observer.on_bytes(br#"{"error":{"message":"We could not parse the JSON body of your request.","type":"invalid_request_error"}}"#, 2.0);
    let identity = CallIdentity {
        call_id: "c".into(),
        start_ts: Timestamp(0),
        source: "proxy",
        run_id: None,
        phase: None,
    };
    let (row, _) = observer.finish(identity, 3.0, None, &Redactor::from_vars([]));
    assert_eq!(row.error_kind.as_deref(), Some("http"));
    assert!(row.error.expect("error").contains("could not parse"));
}

#[test]
fn answer_text_is_kept_only_when_asked_and_without_reasoning() {
    let chunks: [&[u8]; 3] = [
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"hmm\"}}]}\n\n",
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"caf\xc3\xa9 \"}}]}\n\n",
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"}}]}\n\ndata: [DONE]\n\n",
    ];
    let mut kept = CallObserver::new(
        Provider::OpenAi,
        "/v1/chat/completions",
        b"{\"stream\":true}",
    )
    .expect("call");
    let mut not_kept =
        CallObserver::new(Provider::OpenAi, "/v1/chat/completions", b"{}").expect("call");
    kept.keep_text();
    for observer in [&mut kept, &mut not_kept] {
        observer.on_response(200, Some(SSE));
        for (i, chunk) in chunks.iter().enumerate() {
            observer.on_bytes(chunk, i as f64);
        }
    }
    assert_eq!(kept.text(), Some("café ok"));
    assert_eq!(not_kept.text(), None);
}

/// A saved response (an `*_api` transcript) and the same body captured by the proxy are read
/// by one provider module, so they agree on model, usage, finish reason, error and tool calls.
#[test]
fn a_saved_reply_and_a_captured_one_agree() {
    use crate::formats::{Format, ParseOptions, parse_for_test};
    let cases: [(Provider, &str, &dyn Format, &str); 5] = [
        (
            Provider::OpenAi,
            "/v1/chat/completions",
            &crate::formats::openai_api::OpenAiApi,
            r#"{"id":"c1","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"t1","type":"function","function":{"name":"grep","arguments":"{\"q\":1}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":120,"completion_tokens":9,"prompt_tokens_details":{"cached_tokens":100}}}"#,
        ),
        (
            Provider::OpenAi,
            "/v1/responses",
            &crate::formats::openai_api::OpenAiApi,
            r#"{"id":"r1","object":"response","model":"gpt-5","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"function_call","call_id":"fc1","name":"shell","arguments":"{}"}],"usage":{"input_tokens":40,"output_tokens":12,"output_tokens_details":{"reasoning_tokens":5}}}"#,
        ),
        (
            Provider::Anthropic,
            "/v1/messages",
            &crate::formats::anthropic_api::AnthropicApi,
            r#"{"id":"m1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"ok"},{"type":"tool_use","id":"tu1","name":"read","input":{"p":"a"}}],"stop_reason":"tool_use","usage":{"input_tokens":3,"output_tokens":20,"cache_read_input_tokens":900,"cache_creation_input_tokens":50}}"#,
        ),
        (
            Provider::Anthropic,
            "/v1/messages",
            &crate::formats::anthropic_api::AnthropicApi,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ),
        (
            Provider::Gemini,
            "/v1beta/models/gemini-2.5-flash:generateContent",
            &crate::formats::gemini_api::GeminiApi,
            r#"{"responseId":"g1","modelVersion":"gemini-2.5-flash","candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"weather","args":{"c":"Oslo"}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":80,"candidatesTokenCount":6,"thoughtsTokenCount":30,"cachedContentTokenCount":64}}"#,
        ),
    ];
    for (provider, path, format, body) in cases {
        let (captured, captured_tools) =
            observe(provider, path, "{}", 200, JSON, &[(body, 10.0)], 12.0);
        let (result, rows, _) = parse_for_test(
            format,
            body.as_bytes(),
            "saved.json",
            &ParseOptions::default(),
        );
        assert!(result.is_ok(), "{path}: {result:?}");
        let saved = &rows.llm_calls[0];
        let figures = |c: &LlmCallRow| {
            (
                c.response_model.clone(),
                c.input_tokens,
                c.output_tokens,
                c.cache_read_input_tokens,
                c.cache_creation_input_tokens,
                c.reasoning_tokens,
                c.finish_reason.clone(),
                c.error.clone(),
            )
        };
        assert_eq!(figures(saved), figures(&captured), "{path}: {body}");
        assert_eq!(
            saved.tool_call_count.unwrap_or(0),
            captured_tools.len() as i64,
            "{path}"
        );
    }
}
