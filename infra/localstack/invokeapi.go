package localstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// invokeAPI emulates the Lambda Invoke API (what sam local start-lambda serves), so the AWS CLI
// and SDKs can invoke local functions with --endpoint-url.
type invokeAPI struct {
	invoker   invoker
	functions func(name string) bool // whether a logical id is served
	region    string
	account   string
	logger    *slog.Logger
	// background runs asynchronous (Event) invocations so Close can wait for them.
	background func(func())
}

func (a *invokeAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", a.handleInvoke)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeLambdaError(w, http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("%s %s is not an operation this emulator serves", r.Method, r.URL.Path))
	})
	return mux
}

// writeLambdaError answers as Lambda's REST-JSON protocol does: the SDKs read the error code from
// X-Amzn-ErrorType and the message from the body.
func writeLambdaError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("X-Amzn-RequestId", newUUID())
	w.WriteHeader(status)
	errType := "User"
	if status >= 500 {
		errType = "Service"
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": errType, "Message": msg, "__type": code})
}

// functionName turns what a caller passes as FunctionName (a name, a partial or full ARN, with or
// without a qualifier) into a logical id.
func functionName(s string) (name, qualifier string) {
	if strings.HasPrefix(s, "arn:") {
		// arn:aws:lambda:region:account:function:name[:qualifier]
		parts := strings.Split(s, ":")
		if len(parts) >= 7 {
			name = parts[6]
			if len(parts) >= 8 {
				qualifier = parts[7]
			}
			return name, qualifier
		}
		return s, ""
	}
	if _, rest, ok := strings.Cut(s, ":function:"); ok { // account:function:name[:qualifier]
		s = rest
	}
	name, qualifier, _ = strings.Cut(s, ":")
	return name, qualifier
}

func (a *invokeAPI) handleInvoke(w http.ResponseWriter, r *http.Request) {
	name, qualifier := functionName(r.PathValue("name"))
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		qualifier = q
	}
	arn := functionARN(a.region, a.account, name)
	if !a.functions(name) {
		writeLambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+arn)
		return
	}
	if qualifier != "" && qualifier != "$LATEST" {
		writeLambdaError(w, http.StatusNotFound, "ResourceNotFoundException",
			fmt.Sprintf("Function not found: %s:%s (only $LATEST runs locally)", arn, qualifier))
		return
	}

	payload, err := io.ReadAll(io.LimitReader(r.Body, MaxPayloadSize+1))
	if err != nil {
		writeLambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "could not read the request body")
		return
	}
	if len(payload) > MaxPayloadSize {
		writeLambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException",
			fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", MaxPayloadSize))
		return
	}
	if len(strings.TrimSpace(string(payload))) == 0 {
		payload = []byte("{}") // as Lambda does for an invocation without a payload
	} else if !json.Valid(payload) {
		writeLambdaError(w, http.StatusBadRequest, "InvalidRequestContentException",
			"Could not parse request body into json: the payload is not valid JSON")
		return
	}

	var opts InvokeOptions
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		decoded, err := base64.StdEncoding.DecodeString(cc)
		if err != nil || !json.Valid(decoded) {
			writeLambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "X-Amz-Client-Context must be base64-encoded JSON")
			return
		}
		opts.ClientContext = string(decoded)
	}

	switch typ := r.Header.Get("X-Amz-Invocation-Type"); typ {
	case "", "RequestResponse":
	case "DryRun":
		w.Header().Set("X-Amzn-RequestId", newUUID())
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		// Lambda queues the event and answers at once; errors only reach the logs (locally there
		// is no retry or on-failure destination).
		a.background(func() {
			inv, err := a.invoker.InvokeDetailed(context.Background(), name, payload, opts)
			switch {
			case err != nil && !errors.Is(err, ErrClosed):
				a.logger.Warn("asynchronous invoke failed", "function", name, "error", err)
			case err == nil && inv.Error != nil:
				a.logger.Warn("asynchronous invoke: function error", "function", name,
					"errorType", inv.Error.Type, "errorMessage", inv.Error.Message)
			}
		})
		w.Header().Set("X-Amzn-RequestId", newUUID())
		w.WriteHeader(http.StatusAccepted)
		return
	default:
		writeLambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "unknown X-Amz-Invocation-Type "+typ)
		return
	}

	inv, err := a.invoker.InvokeDetailed(context.WithoutCancel(r.Context()), name, payload, opts)
	switch {
	case errors.Is(err, ErrUnknownFunction):
		writeLambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+arn)
		return
	case errors.Is(err, ErrRequestTooLarge):
		writeLambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", err.Error())
		return
	case err != nil:
		writeLambdaError(w, http.StatusServiceUnavailable, "ServiceException", err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-RequestId", inv.RequestID)
	h.Set("X-Amz-Executed-Version", "$LATEST")
	body := inv.Result
	if inv.Error != nil {
		h.Set("X-Amz-Function-Error", "Unhandled")
		body = inv.Error.Payload
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
