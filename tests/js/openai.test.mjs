// The openai npm package, unmodified, against the dev server: chat, a stream assembled from
// /stream/v1, a tool round trip (by hand and by its runTools helper), and parse() with a zod
// response format (with and without the model's native structured output).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { zodResponseFormat, zodFunction } from 'openai/helpers/zod';
import { z } from 'zod';
import { BASE, call } from './support.mjs';

const client = (path = '/v1') => new OpenAI({ baseURL: `${BASE}${path}`, apiKey: 'unused', maxRetries: 0 });

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

test('chat answers with text, finish reason and usage', async () => {
  const completion = await client().chat.completions.create({
    model: 'mistral-large',
    messages: [{ role: 'user', content: 'Hello from node' }],
  });
  const [choice] = completion.choices;
  assert.equal(choice.message.content, 'You said: Hello from node');
  assert.equal(choice.finish_reason, 'stop');
  assert.ok(completion.usage.prompt_tokens > 0 && completion.usage.completion_tokens > 0);
  assert.equal(completion.usage.total_tokens, completion.usage.prompt_tokens + completion.usage.completion_tokens);
});

test('a stream from /stream/v1 assembles into the answer, usage last', async () => {
  const stream = await client('/stream/v1').chat.completions.create({
    model: 'mistral-large',
    messages: [{ role: 'user', content: 'Hello streaming node' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const pieces = [];
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      if (choice.delta.content) pieces.push(choice.delta.content);
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(pieces.join(''), 'You said: Hello streaming node');
  assert.ok(pieces.length > 1, `one piece only: ${pieces}`);
  assert.equal(finish, 'stop');
  assert.ok(usage && usage.total_tokens > 0);
});

test('a tool round trip: the call parsed, the result answered', async () => {
  const messages = [{ role: 'user', content: `Weather? ${call('get_weather', { city: 'Paris' })}` }];
  const first = await client().chat.completions.create({ model: 'mistral-large', messages, tools: [weatherTool] });
  const { message, finish_reason } = first.choices[0];
  assert.equal(finish_reason, 'tool_calls');
  assert.equal(message.tool_calls.length, 1);
  const [toolCall] = message.tool_calls;
  assert.equal(toolCall.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(toolCall.function.arguments), { city: 'Paris' });
  messages.push(message, { role: 'tool', tool_call_id: toolCall.id, content: 'Sunny in Paris' });
  const second = await client().chat.completions.create({ model: 'mistral-large', messages, tools: [weatherTool] });
  assert.equal(second.choices[0].message.content, 'Tool results: name=get_weather -> Sunny in Paris');
  assert.equal(second.choices[0].finish_reason, 'stop');
});

test('the runTools helper runs a zod function tool over a stream', async () => {
  const ran = [];
  const runner = client('/stream/v1').chat.completions.runTools({
    model: 'mistral-large',
    stream: true,
    messages: [{ role: 'user', content: call('get_weather', { city: 'Lyon' }) }],
    tools: [
      zodFunction({
        name: 'get_weather',
        parameters: z.object({ city: z.string() }),
        function: ({ city }) => {
          ran.push(city);
          return `Sunny in ${city}`;
        },
      }),
    ],
  });
  assert.equal(await runner.finalContent(), 'Tool results: name=get_weather -> Sunny in Lyon');
  assert.deepEqual(ran, ['Lyon']);
});

// Ministral 3 has native structured output; Large 2 answers through the gateway's forced tool.
for (const model of ['ministral-8b', 'mistral-large']) {
  test(`parse() with a zod response format on ${model}`, async () => {
    const City = z.object({ name: z.string(), population: z.number(), unit: z.enum(['millions', 'thousands']) });
    const completion = await client().chat.completions.parse({
      model,
      messages: [{ role: 'user', content: 'Describe a city' }],
      response_format: zodResponseFormat(City, 'city'),
    });
    // The emulator builds a value that validates against the schema sent.
    assert.deepEqual(completion.choices[0].message.parsed, { name: 'example', population: 1, unit: 'millions' });
    assert.equal(completion.choices[0].finish_reason, 'stop');
  });
}
