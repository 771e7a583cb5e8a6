-- wrk: POST /v1/process-instances with a unique business key per request (bench/http/run-wrk).
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local key = string.format("W-%d-%d", math.random(1, 1000000000), counter)
  local body = '{"processId": "order-acceptance", "businessKey": "' .. key .. '", "variables": {"orderId": "' .. key .. '", "paymentOutcome": "timeout"}}'
  return wrk.format(nil, "/v1/process-instances", nil, body)
end
