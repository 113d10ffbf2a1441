// A human-in-the-loop chat page, written as a frontend team would, on the official useStream hook.
// ?api=<mock url>[&threadId=<id>] — the thread id is kept in the URL so a reload rejoins the thread.
import { useState } from "react";
import { useStream } from "@langchain/langgraph-sdk/react";

const params = new URLSearchParams(window.location.search);

export default function App() {
  const [threadId, setThreadId] = useState(params.get("threadId"));
  const [text, setText] = useState("");
  const stream = useStream({
    apiUrl: params.get("api"),
    assistantId: "chat",
    messagesKey: "messages",
    threadId,
    reconnectOnMount: true,
    onThreadId: (id) => {
      setThreadId(id);
      const url = new URL(window.location.href);
      url.searchParams.set("threadId", id);
      window.history.replaceState(null, "", url);
    },
  });
  const interrupt = stream.interrupt;
  const question = interrupt?.value?.question;
  return (
    <main>
      <ul id="messages">
        {stream.messages.map((m) => (
          <li key={m.id} className={`msg msg-${m.type}`}>
            {typeof m.content === "string" ? m.content : JSON.stringify(m.content)}
          </li>
        ))}
      </ul>
      {stream.isLoading && <p id="loading">…</p>}
      {question && !stream.isLoading && (
        <section id="interrupt">
          <p id="question">{question}</p>
          <button id="approve" onClick={() => stream.submit(undefined, { command: { resume: "approve" } })}>Approve</button>
          <button id="reject" onClick={() => stream.submit(undefined, { command: { resume: "reject" } })}>Reject</button>
        </section>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          stream.submit({ messages: [{ type: "human", content: text }] }, { streamResumable: true, onDisconnect: "continue" });
          setText("");
        }}
      >
        <input id="input" value={text} onChange={(e) => setText(e.target.value)} />
        <button id="send" type="submit">Send</button>
        <button id="stop" type="button" onClick={() => stream.stop()}>Stop</button>
      </form>
      <p id="status">{stream.isLoading ? "loading" : "idle"}</p>
    </main>
  );
}
