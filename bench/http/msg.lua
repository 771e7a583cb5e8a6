-- wrk: POST /v1/messages with a unique message id per request (bench/http/run-wrk).
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local id = string.format("m-%d-%d", math.random(1, 1000000000), counter)
  local body = '{"name": "order-delivered", "correlationKey": "nobody", "messageId": "' .. id .. '"}'
  return wrk.format(nil, "/v1/messages", nil, body)
end
