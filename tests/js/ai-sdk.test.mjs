// The Vercel AI SDK, unmodified, against the dev server, through its OpenAI-compatible provider
// (`@ai-sdk/openai-compatible`) and its Mistral provider (`@ai-sdk/mistral`): generateText,
// streamText assembled from /stream/v1, a tool round trip the SDK drives (a tool with `execute`,
// `stopWhen: stepCountIs(...)`), generateObject with a zod schema (with and without the model's
// native structured output), and Magistral's reasoning through the Mistral provider.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { createMistral } from '@ai-sdk/mistral';
import { z } from 'zod';
import { BASE, call } from './support.mjs';

const compatible = (path = '/v1') =>
  createOpenAICompatible({
    name: 'gateway',
    baseURL: `${BASE}${path}`,
    apiKey: 'unused',
    includeUsage: true,
    supportsStructuredOutputs: true,
  });
// The provider appends /chat/completions to the base URL, as for api.mistral.ai/v1.
const mistral = (path = '/v1') => createMistral({ baseURL: `${BASE}${path}`, apiKey: 'unused' });

const providers = {
  '@ai-sdk/openai-compatible': (model, path) => compatible(path).chatModel(model),
  '@ai-sdk/mistral': (model, path) => mistral(path)(model),
};

function weatherTool(ran) {
  return tool({
    description: 'The weather in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      ran.push(city);
      return `Sunny in ${city}`;
    },
  });
}

const City = z.object({
  name: z.string(),
  population: z.number(),
  unit: z.enum(['millions', 'thousands']),
});

for (const [provider, model] of Object.entries(providers)) {
  describe(provider, () => {
    test('generateText answers with text and usage', async () => {
      const result = await generateText({ model: model('mistral-large'), prompt: 'Hello from the AI SDK' });
      assert.equal(result.text, 'You said: Hello from the AI SDK');
      assert.equal(result.finishReason, 'stop');
      assert.ok(result.usage.inputTokens > 0 && result.usage.outputTokens > 0);
    });

    test('streamText from /stream/v1 assembles the answer', async () => {
      const result = streamText({ model: model('mistral-large', '/stream/v1'), prompt: 'Hello streaming SDK' });
      const pieces = [];
      for await (const piece of result.textStream) pieces.push(piece);
      assert.equal(pieces.join(''), 'You said: Hello streaming SDK');
      assert.ok(pieces.length > 1, `one piece only: ${pieces}`);
      assert.equal(await result.finishReason, 'stop');
      const usage = await result.usage;
      assert.ok(usage.inputTokens > 0 && usage.outputTokens > 0);
    });

    test('generateText runs a tool round trip over steps', async () => {
      const ran = [];
      const result = await generateText({
        model: model('mistral-large'),
        prompt: `Weather? ${call('get_weather', { city: 'Paris' })}`,
        tools: { get_weather: weatherTool(ran) },
        stopWhen: stepCountIs(3),
      });
      assert.deepEqual(ran, ['Paris']);
      assert.equal(result.steps.length, 2);
      const [first] = result.steps;
      assert.equal(first.finishReason, 'tool-calls');
      assert.deepEqual(
        first.toolCalls.map((c) => [c.toolName, c.input]),
        [['get_weather', { city: 'Paris' }]],
      );
      assert.deepEqual(first.toolResults.map((r) => r.output), ['Sunny in Paris']);
      assert.equal(result.text, 'Tool results: name=get_weather -> Sunny in Paris');
      assert.ok(result.totalUsage.inputTokens > result.usage.inputTokens);
    });

    test('streamText runs a tool round trip from /stream/v1', async () => {
      const ran = [];
      const result = streamText({
        model: model('mistral-large', '/stream/v1'),
        prompt: call('get_weather', { city: 'Lyon' }),
        tools: { get_weather: weatherTool(ran) },
        stopWhen: stepCountIs(3),
      });
      let text = '';
      for await (const piece of result.textStream) text += piece;
      assert.equal(text, 'Tool results: name=get_weather -> Sunny in Lyon');
      assert.deepEqual(ran, ['Lyon']);
      const steps = await result.steps;
      assert.deepEqual(steps[0].toolCalls.map((c) => [c.toolName, c.input]), [['get_weather', { city: 'Lyon' }]]);
    });

    // Ministral 3 has native structured output; Large 2 answers through the gateway's forced tool.
    for (const name of ['ministral-8b', 'mistral-large']) {
      test(`generateObject fills a zod schema on ${name}`, async () => {
        const { object, usage } = await generateObject({
          model: model(name),
          schema: City,
          schemaName: 'city',
          prompt: 'Describe a city',
        });
        // The emulator builds a value that validates against the schema sent.
        assert.deepEqual(object, { name: 'example', population: 1, unit: 'millions' });
        assert.ok(usage.inputTokens > 0);
      });
    }
  });
}

describe('@ai-sdk/mistral, Magistral', () => {
  // The provider reads reasoning from Mistral's `thinking` chunks, which the gateway sends when
  // asked with its header.
  const magistral = (path) =>
    createMistral({ baseURL: `${BASE}${path}`, apiKey: 'unused', headers: { 'x-reasoning-format': 'mistral' } })(
      'magistral-small',
    );

  test('generateText reads the reasoning apart from the text', async () => {
    const result = await generateText({ model: magistral('/v1'), prompt: 'Think it over' });
    assert.equal(result.reasoningText, 'Thinking about: Think it over');
    assert.equal(result.text, 'You said: Think it over');
  });

  test('streamText from /stream/v1 streams the reasoning apart from the text', async () => {
    const result = streamText({ model: magistral('/stream/v1'), prompt: 'Think it through' });
    let text = '';
    for await (const piece of result.textStream) text += piece;
    assert.equal(text, 'You said: Think it through');
    assert.equal(await result.reasoningText, 'Thinking about: Think it through');
  });
});
