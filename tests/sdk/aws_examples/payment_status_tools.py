# Tool use with Mistral Large 2 (24.07) through the native chat body: the payment-status
# example of Mistral's function-calling guide. The model asks for a payment lookup, the script
# runs it, sends the result back as a tool message, and prints the model's answer.

import boto3
import functools
import json

# Create a Bedrock Runtime client in the AWS Region of your choice.
client = boto3.client("bedrock-runtime", region_name="us-east-1")

model_id = "mistral.mistral-large-2407-v1:0"

# The guide's transactions.
data = {
    "transaction_id": ["T1001", "T1002", "T1003", "T1004", "T1005"],
    "customer_id": ["C001", "C002", "C003", "C002", "C001"],
    "payment_amount": [125.50, 89.99, 120.00, 54.30, 210.20],
    "payment_date": ["2021-10-05", "2021-10-06", "2021-10-07", "2021-10-05", "2021-10-08"],
    "payment_status": ["Paid", "Unpaid", "Paid", "Paid", "Pending"],
}


def retrieve_payment_status(data, transaction_id):
    for i, r in enumerate(data["transaction_id"]):
        if r == transaction_id:
            return json.dumps({"status": data["payment_status"][i]})
    return json.dumps({"status": "Error - transaction id not found"})


def retrieve_payment_date(data, transaction_id):
    for i, r in enumerate(data["transaction_id"]):
        if r == transaction_id:
            return json.dumps({"date": data["payment_date"][i]})
    return json.dumps({"status": "Error - transaction id not found"})


tools = [
    {
        "type": "function",
        "function": {
            "name": "retrieve_payment_status",
            "description": "Get payment status of a transaction",
            "parameters": {
                "type": "object",
                "properties": {"transaction_id": {"type": "string", "description": "The transaction id."}},
                "required": ["transaction_id"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "retrieve_payment_date",
            "description": "Get payment date of a transaction",
            "parameters": {
                "type": "object",
                "properties": {"transaction_id": {"type": "string", "description": "The transaction id."}},
                "required": ["transaction_id"],
            },
        },
    },
]

names_to_functions = {
    "retrieve_payment_status": functools.partial(retrieve_payment_status, data=data),
    "retrieve_payment_date": functools.partial(retrieve_payment_date, data=data),
}

messages = [{"role": "user", "content": "What's the status of my transaction T1001?"}]

# The first call: the model asks for a tool.
body = json.dumps({"messages": messages, "tools": tools, "tool_choice": "auto", "max_tokens": 512})
response = client.invoke_model(modelId=model_id, body=body)
response_body = json.loads(response["body"].read())
message = response_body["choices"][0]["message"]
messages.append(message)

tool_call = message["tool_calls"][0]
function_name = tool_call["function"]["name"]
function_params = json.loads(tool_call["function"]["arguments"])
print("function_name:", function_name, "function_params:", function_params)

function_result = names_to_functions[function_name](**function_params)
messages.append({"role": "tool", "content": function_result, "tool_call_id": tool_call["id"]})

# The second call: the model answers with the tool's result.
body = json.dumps({"messages": messages, "tools": tools, "max_tokens": 512})
response = client.invoke_model(modelId=model_id, body=body)
response_body = json.loads(response["body"].read())
print(response_body["choices"][0]["message"]["content"])
